"""`strata import tensorboard` on event files the real `tensorboardX` writes: CatBoost-style
`learn/events.out.tfevents` files (the exact name, in two `learn/` directories that must stay two
runs), hparams from the hparams plugin as params, and a restarted job (SessionLog START) purged
as TensorBoard purges it."""
import json
import math
import os
import struct
import subprocess

import pytest

pytest.importorskip("tensorboardX")
from tensorboardX import SummaryWriter  # noqa: E402
from tensorboardX.proto.event_pb2 import Event, SessionLog  # noqa: E402

from built import built  # noqa: E402


def strata(*args, store, check=True):
    r = subprocess.run([built("strata", "STRATA_BIN"), *args, "--store", store], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def exported(store):
    out = {}
    for line in strata("export", store=store).stdout.splitlines():
        p = json.loads(line)
        out.setdefault((p["run"], p["metric"]), []).append((p["step"], p["value"]))
    return out


def catboost_like(logdir, values):
    """tensorboardX events under `logdir`, renamed to CatBoost's exact file name."""
    with SummaryWriter(logdir=logdir) as w:
        for step, v in enumerate(values):
            w.add_scalar("Logloss", v, step, walltime=1_760_000_000 + step)
    (name,) = [n for n in os.listdir(logdir) if n.startswith("events.out.tfevents.")]
    os.rename(os.path.join(logdir, name), os.path.join(logdir, "events.out.tfevents"))


def test_catboost_file_names_and_two_learn_directories(tmp_path):
    a = [0.5, math.nan, math.inf, -0.0, 1e-40]  # float32: 1e-40 is subnormal
    b = [0.25, 0.125]
    catboost_like(str(tmp_path / "logs" / "a" / "catboost_info" / "learn"), a)
    catboost_like(str(tmp_path / "logs" / "b" / "catboost_info" / "learn"), b)
    catboost_like(str(tmp_path / "logs" / "b" / "catboost_info" / "test"), b[:1])
    store = str(tmp_path / "s")
    r = strata("import", "tensorboard", str(tmp_path / "logs"), store=store)
    assert r.stderr.startswith("imported 3 runs from tensorboard: 3 series, 8 points"), r.stderr
    points = exported(store)
    got_a = points[("a/catboost_info/learn", "Logloss")]
    assert [s for s, _ in got_a] == list(range(5))
    for (_, v), want in zip(got_a, a):
        assert (math.isnan(v) and math.isnan(want)) or struct.pack("<d", v) == struct.pack("<d", f32(want))
    assert points[("b/catboost_info/learn", "Logloss")] == [(0, 0.25), (1, 0.125)]
    assert points[("b/catboost_info/test", "Logloss")] == [(0, 0.25)]
    # one file given directly: the run is named after its directory
    store2 = str(tmp_path / "s2")
    strata("import", "tensorboard", str(tmp_path / "logs" / "a" / "catboost_info" / "learn" / "events.out.tfevents"),
           store=store2)
    assert list(exported(store2)) == [("learn", "Logloss")]


def test_hparams_plugin_gives_params(tmp_path):
    logdir = str(tmp_path / "logs" / "run1")
    with SummaryWriter(logdir=logdir) as w:
        for step in range(3):
            w.add_scalar("loss", 1 / (step + 1), step)
        w.add_hparams({"lr": 0.1, "bsize": 32, "optimizer": "adam", "amp": True}, {"hparam/accuracy": 0.75},
                      name="session")
    store = str(tmp_path / "s")
    r = strata("import", "tensorboard", str(tmp_path / "logs"), store=store)
    assert "non-scalar" not in r.stderr, r.stderr
    runs = {x["name"]: x for x in json.loads(strata("runs", "--json", store=store).stdout)}
    # tensorboardX writes the session (hparams and metric values) into a subdirectory: its own run,
    # as TensorBoard shows it
    assert runs["run1/session"]["params"] == {"lr": 0.1, "bsize": 32, "optimizer": "adam", "amp": True}
    assert runs["run1"]["params"] == {}
    assert exported(store)[("run1/session", "hparam/accuracy")] == [(0, 0.75)]
    q = strata("runs", "--where", "params.lr > 0.05 and params.optimizer == 'adam'", "--columns", "name", store=store)
    assert "run1/session" in q.stdout


def test_restarted_job_purges_points_at_and_after_the_restart_step(tmp_path):
    logdir = str(tmp_path / "logs" / "job")
    with SummaryWriter(logdir=logdir) as w:
        for step in range(10):
            w.add_scalar("loss", float(step), step)
            w.add_scalar("acc", float(step) / 10, step)
    # the job crashed after step 9 and restarts from the checkpoint of step 6 (a second file, as a
    # restarted process writes one)
    with SummaryWriter(logdir=logdir, filename_suffix=".restart") as w:
        w.file_writer.add_event(Event(step=6, session_log=SessionLog(status=SessionLog.START)))
        for step in range(6, 12):
            w.add_scalar("loss", 100.0 + step, step)
    files = sorted(n for n in os.listdir(logdir))
    assert len(files) == 2
    store = str(tmp_path / "s")
    r = strata("import", "tensorboard", str(tmp_path / "logs"), store=store)
    assert "8 points purged by a restart (SessionLog START)" in r.stderr, r.stderr
    points = exported(store)
    assert points[("job", "loss")] == [(s, float(s)) for s in range(6)] + [(s, 100.0 + s) for s in range(6, 12)]
    assert points[("job", "acc")] == [(s, f32(s / 10)) for s in range(6)]
