"""The API a W&B or MLflow user expects: init(project=, name=, config=, tags=, notes=), run.log,
run.config, run.summary, finish(exit_code=), the context manager, and the system-metrics sampler."""
import argparse
import os
import stat
import time
import urllib.parse

import pytest

import strata_metrics as strata


def test_init_config_summary_notes_over_http(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(project="vision", name="wb-style", config={"lr": 0.001, "optim": {"name": "adam"}},
                      tags=["sweep"], notes="does warmup help?", capture=False)
    assert strata.run is run
    run.config["batch"] = 64
    run.config.update({"epochs": 3, "aug": {"flip": True}})
    run.config.dropout = 0.25
    assert run.config["lr"] == 0.001 and run.config.batch == 64 and run.config["aug"] == {"flip": True}
    assert sorted(run.config) == ["aug", "batch", "dropout", "epochs", "lr", "optim"]
    for s in range(10):
        strata.log({"train/loss": 1.0 / (s + 1), "val": {"acc": s / 10}})
    assert run.summary["train/loss"] == 0.1 and run.summary["val/acc"] == 0.9  # last logged values
    run.summary["best_acc"] = 0.93
    run.summary.update({"best_epoch": 7, "train/loss": 0.05})
    assert run.summary["train/loss"] == 0.05  # a value set wins over the last logged one
    strata.finish(exit_code=0)
    assert strata.run is None

    info = server.get("/api/runs/wb-style")
    assert info["project"] == "vision"
    assert info["status"] == "finished"
    assert info["params"] == {"lr": 0.001, "optim.name": "adam", "batch": 64, "epochs": 3, "aug.flip": True, "dropout": 0.25}
    assert info["tags"] == ["sweep"]
    assert info["meta"]["purpose"] == "does warmup help?"
    assert info["meta"]["summary.best_acc"] == 0.93
    assert info["meta"]["summary.best_epoch"] == 7
    assert info["meta"]["summary.train/loss"] == 0.05
    series = {s["metric"]: s for s in info["series"]}
    assert series["train/loss"]["count"] == 10 and series["val/acc"]["last_step"] == 9  # steps counted from 0
    found = server.get("/api/runs?where=" + urllib.parse.quote("meta.summary.best_acc > 0.9"))["runs"]
    assert [r["name"] for r in found] == ["wb-style"]


def test_finish_with_a_nonzero_exit_code_fails_the_run(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="exit-1", capture=False)
    run.log({"loss": 1.0}, step=0)
    run.finish(exit_code=1)
    assert server.get("/api/runs/exit-1")["status"] == "failed"
    run = strata.init(name="exit-0", capture=False)
    run.finish(exit_code=0)
    assert server.get("/api/runs/exit-0")["status"] == "finished"
    with strata.init(name="ctx", config=argparse.Namespace(lr=0.5, depth=3), capture=False) as run:
        run.log({"loss": 2.0})
    info = server.get("/api/runs/ctx")
    assert info["status"] == "finished" and info["params"] == {"lr": 0.5, "depth": 3}


def test_config_and_summary_refuse_what_the_store_cannot_do(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="no-delete", config={"lr": 1}, capture=False)
    with pytest.raises(TypeError):
        del run.config["lr"]
    with pytest.raises(TypeError):
        run.config[3] = "x"
    run.summary["s"] = 1
    with pytest.raises(TypeError):
        del run.summary["s"]
    with pytest.raises(AttributeError):
        run.config.missing
    with pytest.raises(ValueError):
        run.finish(status="crashed")
    run.finish()
    assert server.get("/api/runs/no-delete")["params"] == {"lr": 1}


FAKE_NVIDIA_SMI = """#!/bin/sh
# Answers the query the client sends: index, utilization.gpu, memory.used, memory.total, power.draw, temperature.gpu
case "$1" in --query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu) ;; *) exit 9 ;; esac
echo "0, 87, 1024, 16384, 215.5, 66"
echo "1, 3, 0, 16384, [N/A], 40"
"""


def wait_for_samples(run, n):
    deadline = time.monotonic() + 120  # a bound for a stuck sampler, not a timing assertion
    while run.system.samples < n:
        assert time.monotonic() < deadline, "the sampler took no %d samples" % n
        time.sleep(0.01)


def test_system_metrics_are_logged_as_sys_series(server, monkeypatch, tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(FAKE_NVIDIA_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="sys", system_metrics=True, system_interval=0.02, capture=False)
    for s in range(5):
        run.log({"loss": float(s)})
    wait_for_samples(run, 3)
    run.log({"loss": 5.0})
    run.finish()

    series = {s["metric"]: s for s in server.get("/api/runs/sys/series")["series"]}
    loss = series.pop("loss")
    assert (loss["count"], loss["first_step"], loss["last_step"]) == (6, 0, 5)  # samples do not move the step
    expected = {"sys/cpu.percent", "sys/cpu.process_percent", "sys/memory.percent", "sys/memory.used_mib",
                "sys/memory.process_rss_mib", "sys/disk.percent", "sys/net.recv_mib_s", "sys/net.sent_mib_s",
                "sys/gpu.0.utilization_percent", "sys/gpu.0.memory_used_mib", "sys/gpu.0.memory_percent",
                "sys/gpu.0.power_w", "sys/gpu.0.temperature_c",
                "sys/gpu.1.utilization_percent", "sys/gpu.1.memory_used_mib", "sys/gpu.1.memory_percent",
                "sys/gpu.1.temperature_c"}
    if os.path.exists("/proc/diskstats") and os.path.isdir("/sys/block"):
        expected |= {"sys/disk.read_mib_s", "sys/disk.write_mib_s"}
    assert set(series) == expected  # gpu.1 reports no power ([N/A]): no series for it
    assert all(s["count"] >= 3 for s in series.values())
    for name in ("sys/cpu.percent", "sys/memory.percent", "sys/disk.percent"):
        assert 0 <= series[name]["min"] <= series[name]["max"] <= 100, name
    gpu = server.get("/api/points?run=sys&metric=sys/gpu.0.utilization_percent")["points"]
    assert {p[1] for p in gpu} == {87}
    assert [p[0] for p in gpu] == sorted(p[0] for p in gpu)  # steps: ms since init, increasing
    assert series["sys/gpu.0.memory_percent"]["max"] == 6.25
    assert series["sys/gpu.0.power_w"]["min"] == 215.5


def test_no_gpu_series_without_nvidia_smi_and_none_when_off(server, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi (nor anything else)
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="sys-cpu", system_metrics=True, system_interval=0.02, capture=False)
    wait_for_samples(run, 2)
    run.finish()
    names = {s["metric"] for s in server.get("/api/runs/sys-cpu/series")["series"]}
    assert "sys/cpu.percent" in names and not any(n.startswith("sys/gpu") for n in names)

    monkeypatch.delenv("STRATA_SYSTEM_METRICS")  # default: on; off when asked
    run = strata.init(name="sys-off", system_metrics=False, capture=False)
    assert run.system is None
    run.log({"loss": 1.0}, step=0)
    run.finish()
    assert [s["metric"] for s in server.get("/api/runs/sys-off/series")["series"]] == ["loss"]
    run = strata.init(name="sys-default", capture=False)
    assert run.system is not None and run.system.interval == 10.0
    run.finish()


HYDRA_CONFIG = {
    "optimizer": {"name": "adam", "betas": (0.9, 0.999), "lr": 0.001},
    "dataset": {"augment": ["flip", "crop"], "root": None},
    "model": {"layers": [512, 256], "blocks": [{"kind": "conv", "width": 64}, [1, [2]]]},
    "seed": 2**53 + 1,
    "huge": 123456789012345678901234567890,
    "lr_text": "0.10",
    "tag": "007",
    "version": "1.10",
    "amp": True,
    "empty": [],
}
HYDRA_PARAMS = {
    "optimizer.name": "adam", "optimizer.betas": [0.9, 0.999], "optimizer.lr": 0.001,
    "dataset.augment": ["flip", "crop"], "dataset.root": None,
    "model.layers": [512, 256], "model.blocks": [{"kind": "conv", "width": 64}, [1, [2]]],
    "seed": 2**53 + 1, "huge": 123456789012345678901234567890,
    "lr_text": "0.10", "tag": "007", "version": "1.10", "amp": True, "empty": [],
}


@pytest.mark.parametrize("transport", ["http", "local"])
def test_config_of_any_json_shape_round_trips(server, strata_bin, tmp_path, monkeypatch, transport):
    """Lists stay lists, None stays null (distinct from absent), integers beyond 2**53 and 2**64 are
    exact, strings that look like numbers stay strings; filters see list elements and null."""
    if transport == "http":
        monkeypatch.setenv("STRATA_URL", server.url)
    else:
        monkeypatch.delenv("STRATA_URL", raising=False)
        monkeypatch.setenv("STRATA_BIN", strata_bin)
        monkeypatch.setenv("STRATA_STORE", str(tmp_path / "store"))
    run = strata.init(name="hydra-" + transport, config=HYDRA_CONFIG, capture=False)
    run.config["later"] = [None, True]
    run.finish()
    expected = dict(HYDRA_PARAMS, later=[None, True])
    if transport == "http":
        assert server.get("/api/runs/hydra-http")["params"] == expected
        where = 'params.dataset.augment has "flip" and params.dataset.root is null and params.model.layers[1] == 256'
        found = server.get("/api/runs?where=" + urllib.parse.quote(where))["runs"]
        assert [r["name"] for r in found] == ["hydra-http"]
    else:
        import json
        import subprocess
        store = str(tmp_path / "store")
        out = subprocess.run([strata_bin, "runs", "--json", "--store", store, "--where", "len(params.model.layers) == 2"],
                             check=True, capture_output=True, text=True).stdout
        runs = json.loads(out)
        assert [r["name"] for r in runs] == ["hydra-local"]
        assert runs[0]["params"] == expected
