"""fork(): the local binary path, against a store the test makes."""
import os
import subprocess

import pytest

import strata_metrics as sm


def test_fork_through_local_binary(strata_bin, tmp_path, monkeypatch):
    store = str(tmp_path / "store")
    for s in range(10):
        subprocess.run([strata_bin, "log", "base", "--create", "--step", str(s), "loss=%d" % s, "--store", store], check=True)
    monkeypatch.setenv("STRATA_BIN", strata_bin)
    monkeypatch.delenv("STRATA_URL", raising=False)
    with pytest.raises(sm.StrataError, match="beyond its last step 9"):
        sm.fork("base", 10, store=store)
    made = sm.fork("base", 4, name="child", params={"lr": 0.01}, store=store)
    assert made["name"] == "child" and made["fork_step"] == 4
    out = subprocess.run([strata_bin, "curve", "child", "loss", "--buckets", "1", "--json", "--store", store],
                         check=True, capture_output=True, text=True).stdout
    assert '"count": 5' in out  # steps 0..4 inherited, none of its own yet


def test_fork_through_server(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = sm.init(name="base", capture=False)
    for s in range(10):
        run.log({"loss": float(s)}, step=s)
    run.finish()
    with pytest.raises(sm.StrataError, match="refused: .*9"):
        sm.fork("base", 10)
    made = sm.fork("base", 4, name="child")
    assert made["name"] == "child" and made["fork_step"] == 4 and made["parent"] == server.get("/api/runs/base")["id"]
