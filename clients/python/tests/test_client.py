import json
import math
import os
import subprocess
import threading
import urllib.error

import pytest

import strata_metrics as strata
from conftest import Server


def test_log_batches_and_metadata(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    monkeypatch.delenv("STRATA_TOKEN", raising=False)
    run = strata.init(name="py-run", params={"lr": 3e-4, "optim": {"name": "adam", "beta": 0.9}}, tags=["py", "baseline"],
                      meta={"purpose": "client test"}, flush_interval=0.05)
    for s in range(5000):
        run.log({"train/loss": 1.0 / (s + 1), "acc": s / 5000}, step=s)
    run.log({"train/loss": float("nan"), "acc": float("inf")}, step=5000)
    run.log({"val/loss": 0.5})  # step defaults to the previous step + 1
    run.finish()
    assert run.id is not None and len(run.id) == 26

    info = server.get("/api/runs/py-run")
    assert info["status"] == "finished"
    assert info["params"] == {"lr": 0.0003, "optim.beta": 0.9, "optim.name": "adam"}
    assert set(info["tags"]) == {"py", "baseline"}
    meta = info["meta"]
    for key in ("host", "command", "python", "purpose"):
        assert key in meta, key
    assert meta["purpose"] == "client test"
    # This test runs inside the Strata git checkout: commit and dirty flag are captured.
    if subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True).returncode == 0:
        assert len(meta["git.commit"]) == 40
        assert isinstance(meta["git.dirty"], bool)
    series = {s["metric"]: s for s in info["series"]}
    assert series["train/loss"]["count"] == 5001
    assert series["acc"]["max"] == "Infinity"
    assert series["val/loss"]["first_step"] == 5001

    pts = server.get("/api/points?run=py-run&metric=train/loss&from=4998")["points"]
    assert [p[0] for p in pts] == [4998, 4999, 5000]
    assert pts[0][1] == 1.0 / 4999
    assert pts[2][1] == "NaN"
    curve = server.get("/api/curve?run=py-run&metric=train/loss&buckets=10&to=5000")
    assert sum(r["count"] for r in curve["rows"]) == 5000
    assert curve["rows"][0]["max"] == 1.0


def test_context_manager_marks_failed(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    with pytest.raises(RuntimeError):
        with strata.init(name="py-crash", capture=False) as run:
            run.log({"loss": 1.0}, step=0)
            raise RuntimeError("boom")
    assert server.get("/api/runs/py-crash")["status"] == "failed"


def test_bad_values_rejected_locally(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="py-bad", capture=False)
    with pytest.raises(TypeError):
        run.log({"loss": "high"}, step=0)
    with pytest.raises(TypeError):
        run.log({"loss": 1.0}, step="x")
    run.finish()


def test_tokens(strata_bin, store_dir, monkeypatch):
    def token(scope):
        return subprocess.run([strata_bin, "token", "create", "--scope", scope, "--store", store_dir],
                              check=True, capture_output=True, text=True).stdout.strip()
    write, read = token("write"), token("read")
    assert write.startswith("strata_") and write != read
    server = Server(strata_bin, store_dir)
    try:
        monkeypatch.setenv("STRATA_URL", server.url)
        # No token: the server answers 401 and the client says so.
        monkeypatch.delenv("STRATA_TOKEN", raising=False)
        run = strata.init(name="py-noauth", capture=False)
        run.log({"loss": 1.0}, step=0)
        with pytest.raises(strata.StrataError, match="HTTP 401"):
            run.finish()
        # Read token: 403 on ingest.
        run = strata.init(name="py-read", capture=False, token=read)
        with pytest.raises(strata.StrataError, match="HTTP 403.*read scope"):
            run.finish()
        # Write token: accepted; reading needs a token too.
        monkeypatch.setenv("STRATA_TOKEN", write)
        run = strata.init(name="py-auth", params={"x": 1})
        run.log({"loss": 0.25}, step=7)
        run.finish()
        with pytest.raises(urllib.error.HTTPError) as e:
            server.get("/api/runs")
        assert e.value.code == 401
        runs = server.get("/api/runs", token=read)["runs"]
        assert [r["name"] for r in runs] == ["py-auth"]
    finally:
        server.stop()


def test_concurrent_runs_over_http(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    errors = []

    def worker(i):
        try:
            run = strata.init(name="rank-%d" % i, params={"rank": i}, capture=False, flush_interval=0.01, max_batch=500)
            for s in range(3000):
                run.log({"loss": s * 0.001 + i}, step=s)
            run.finish()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    summary = server.get("/api/summary")["runs"]
    assert len(summary) == 8
    assert all(r["metrics"]["loss"]["count"] == 3000 for r in summary)


def test_local_ingest_without_server(strata_bin, store_dir, monkeypatch):
    monkeypatch.delenv("STRATA_URL", raising=False)
    monkeypatch.setenv("STRATA_BIN", strata_bin)
    monkeypatch.setenv("STRATA_STORE", store_dir)
    run = strata.init(name="py-local", params={"lr": 0.1}, tags=["local"])
    for s in range(1000):
        run.log({"loss": math.exp(-s / 100)}, step=s)
    run.finish()
    out = subprocess.run([strata_bin, "runs", "--json", "--store", store_dir], check=True, capture_output=True, text=True).stdout
    runs = json.loads(out.replace("NaN", "null").replace("-Infinity", "null").replace("Infinity", "null"))
    assert [r["name"] for r in runs] == ["py-local"]
    assert runs[0]["status"] == "finished"
    assert runs[0]["tags"] == ["local"]
    assert runs[0]["params"] == {"lr": 0.1}
    assert runs[0]["metrics"]["loss"]["count"] == 1000
    assert runs[0]["metrics"]["loss"]["last_step"] == 999
    assert "git.commit" in runs[0]["meta"] or "host" in runs[0]["meta"]


def test_retry_after_a_lost_answer_is_applied_once(server, monkeypatch):
    """The first answer is lost (the connection drops after the server stored the batch): the
    client retries with the same Idempotency-Key and the server applies the batch once."""
    real = urllib.request.urlopen
    keys = []

    def flaky(req, *args, **kwargs):
        keys.append(req.get_header("Idempotency-key"))
        resp = real(req, *args, **kwargs)
        if len(keys) == 1:
            resp.read()
            resp.close()
            raise ConnectionResetError("answer lost")
        return resp

    monkeypatch.setattr(strata.urllib.request, "urlopen", flaky)
    transport = strata._HTTPTransport(server.url, None)
    records = [{"run": "py-retry", "step": s, "metrics": {"loss": s * 0.5}} for s in range(100)]
    reply = transport.send(records).reply
    assert reply["points"] == 100
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    pts = server.get("/api/points?run=py-retry&metric=loss")["points"]
    assert [p[0] for p in pts] == list(range(100))

    # A new batch gets a new key; the same key with another body is refused (422).
    transport.send(records[:1])
    assert keys[2] != keys[0]
    monkeypatch.setattr(strata.urllib.request, "urlopen", real)
    req = urllib.request.Request(server.url + "/api/ingest", data=b'{"run": "py-retry", "step": 1000, "metrics": {"loss": 1}}',
                                 method="POST", headers={"Idempotency-Key": keys[0], "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 422
    assert len(server.get("/api/points?run=py-retry&metric=loss")["points"]) == 101


def test_run_logs_through_keyed_batches(server, monkeypatch):
    """Every batch the client sends carries its own key."""
    real = urllib.request.urlopen
    keys = []

    def spy(req, *args, **kwargs):
        keys.append(req.get_header("Idempotency-key"))
        return real(req, *args, **kwargs)

    monkeypatch.setattr(strata.urllib.request, "urlopen", spy)
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="py-keys", capture=False, flush_interval=0.01)
    for s in range(50):
        run.log({"loss": 1.0}, step=s)
        if s % 10 == 9:
            run.flush()
    run.finish()
    assert len(keys) >= 2 and all(keys) and len(set(keys)) == len(keys)
    assert server.get("/api/runs/py-keys/series")["series"][0]["count"] == 50
