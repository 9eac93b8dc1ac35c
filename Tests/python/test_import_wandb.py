"""`strata import wandb` on run directories the real `wandb` package writes offline
(WANDB_MODE=offline; its wandb-core service writes the `.wandb` transaction log).

wandb_writer.py logs three runs (config of every type, tags, notes, group, job type, history with
NaN, ±Inf, −0.0, subnormals and random doubles, nested keys, summary overrides, a failed exit,
rows larger than a 32 KiB block); the test imports them with the built `strata` and compares what
`strata export` and `strata runs --json` print with what was logged, bit for bit. Truncated and
damaged copies of a log import up to the damage and say where it is.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

pytest.importorskip("wandb")
from wandb.proto import wandb_internal_pb2  # noqa: E402

from built import built  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def strata(*args, store, check=True):
    r = subprocess.run([built("strata", "STRATA_BIN"), *args, "--store", store], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def exported(store):
    out = {}
    for line in strata("export", store=store).stdout.splitlines():
        p = json.loads(line)
        out.setdefault((p["run"], p["metric"]), []).append((p["step"], p["value"], p["time"]))
    return out


def same_value(a, b):
    return (math.isnan(a) and math.isnan(b)) or bits(a) == bits(b)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("wandb")
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(root))
    env.pop("WANDB_API_KEY", None)
    r = subprocess.run([sys.executable, os.path.join(HERE, "wandb_writer.py"), "11"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout.strip().splitlines()[-1])
    logs = {}
    for d in os.listdir(root / "wandb"):
        if d.startswith("offline-run-"):
            for f in os.listdir(root / "wandb" / d):
                if f.endswith(".wandb"):
                    logs[f[len("run-"):-len(".wandb")]] = str(root / "wandb" / d / f)
    assert sorted(logs) == sorted(r["id"] for r in runs)
    return root, runs, logs


@pytest.fixture(scope="module")
def imported(written, tmp_path_factory):
    root, runs, logs = written
    store = str(tmp_path_factory.mktemp("store") / "s")
    r = strata("import", "wandb", str(root / "wandb"), store=store)
    return store, r.stderr


def test_every_history_value_is_imported_exactly(written, imported):
    _, runs, _ = written
    store, report = imported
    assert report.startswith("imported 3 runs from wandb: "), report
    points = exported(store)
    for run in runs:
        for metric, logged in run["history"].items():
            got = points[(run["name"], metric)]
            assert [s for s, _, _ in got] == [s for s, _ in logged], (run["name"], metric)
            bad = [(s, b, v) for (s, b), (_, v, _) in zip(logged, got)
                   if not same_value(struct.unpack("<d", struct.pack("<Q", b))[0], v)]
            assert bad == [], (run["name"], metric, bad[:3])
            times = [t for _, _, t in got]
            assert times == sorted(times)
    # strings logged as history values are not series; the count says so
    assert ("awkward", "note") not in points
    assert "60 non-numeric values" in report and "1 metadata over Strata's limits" in report, report


def test_config_tags_notes_summary_and_exit(written, imported):
    _, runs, _ = written
    store, _ = imported
    by_name = {r["name"]: r for r in json.loads(strata("runs", "--json", store=store).stdout)}
    a = by_name["awkward"]
    assert a["project"] == "strata-import" and a["status"] == "finished"
    assert a["params"] == {"lr": 0.001, "text_lr": "0.10", "code": "007", "epochs": 12, "wd": 1e-5,
                           "nesterov": True, "layers": [64, 32], "opt.name": "adam",
                           "opt.betas.b1": 0.9, "opt.betas.b2": 0.999, "extra.depth": 4, "late": "x"}
    assert sorted(a["tags"]) == ["baseline", "cnn"]
    meta = a["meta"]
    assert meta["purpose"] == "first try" and meta["wandb.group"] == "sweep-1"
    assert meta["wandb.job_type"] == "train" and meta["wandb.exit_code"] == 0
    assert meta["wandb.run_id"] == runs[0]["id"]
    assert meta["summary.best_acc"] == 0.875 and meta["summary.loss"] == -1.5
    assert meta["summary.train/acc"] == 59 / 60
    # system metrics (stats records) are sys/* series
    assert any(k.startswith("sys/") for k in a["metrics"]), list(a["metrics"])
    f = by_name["failed"]
    assert f["status"] == "failed" and f["meta"]["wandb.exit_code"] == 3 and f["params"] == {"seed": 3}
    assert "purpose" not in f["meta"]
    w = by_name["wide"]
    assert w["project"] == "other" and len([k for k in w["metrics"] if k.startswith("w/")]) == 3000
    for r in by_name.values():
        assert r["created"] <= r["ended"]


def test_importing_again_leaves_runs_alone(written, imported):
    root, _, logs = written
    store, _ = imported
    r = strata("import", "wandb", str(root / "wandb"), *logs.values(), store=store)
    assert r.stderr.startswith("imported 0 runs from wandb: 0 series, 0 points"), r.stderr
    assert "3 runs were imported before and left alone" in r.stderr, r.stderr
    # the project directory above wandb/ finds the same logs (latest-run is not followed)
    r = strata("import", "wandb", str(root), store=store)
    assert r.stderr.startswith("imported 0 runs") and "3 runs were imported before" in r.stderr, r.stderr
    # a copied (or moved) wandb/ folder holds the same runs: recognised by run directory and log name
    moved = str(root.parent / (root.name + "-moved"))
    shutil.copytree(root / "wandb", moved, symlinks=True)
    r = strata("import", "wandb", moved, store=store)
    assert "3 runs were imported before and left alone" in r.stderr, r.stderr


# A reading of the framing independent of the importer: where each record's chunks lie.
def records(path):
    b = open(path, "rb").read()
    assert b[:7] == b":W&B\xe1\xbe\x00"
    pos, out, cur = 7, [], None
    while pos + 7 <= len(b):
        if 32768 - pos % 32768 < 7:
            pos += 32768 - pos % 32768
            continue
        crc, n, kind = struct.unpack("<IHB", b[pos:pos + 7])
        assert zlib.crc32(b[pos + 6:pos + 7 + n]) == crc
        chunk = (pos, pos + 7 + n, b[pos + 7:pos + 7 + n])
        if kind in (1, 2):
            cur = [chunk]
        else:
            cur.append(chunk)
        if kind in (1, 4):
            rec = wandb_internal_pb2.Record()
            rec.ParseFromString(b"".join(c[2] for c in cur))
            out.append((cur, rec))
        pos += 7 + n
    return out


def history_steps(recs, metric):
    steps = []
    for _, rec in recs:
        if rec.WhichOneof("record_type") == "history":
            keys = ["/".join(i.nested_key) or i.key for i in rec.history.item]
            if metric in keys:
                steps.append(next(int(i.value_json) for i in rec.history.item if (i.key or i.nested_key[0]) == "_step"))
    return steps


def test_truncated_log_imports_up_to_the_cut(written, tmp_path):
    _, runs, logs = written
    wide = next(r for r in runs if r["name"] == "wide")
    recs = records(logs[wide["id"]])
    second = [c for c, rec in recs if rec.WhichOneof("record_type") == "history"][1]
    cut = second[1][0] + 100  # inside the second history row's second chunk
    d = tmp_path / "offline-run-cut"
    d.mkdir()
    with open(logs[wide["id"]], "rb") as f:
        (d / os.path.basename(logs[wide["id"]])).write_bytes(f.read()[:cut])
    store = str(tmp_path / "s")
    r = strata("import", "wandb", str(d), store=store)
    assert "1 incomplete records at log ends" in r.stderr, r.stderr
    assert f"byte {second[0][0]}: the log ends inside a record" in r.stderr, r.stderr
    expected = history_steps([(c, rec) for c, rec in recs if c[-1][1] <= cut], "w/0000")
    assert expected == [0]
    got = exported(store)[("wide", "w/0000")]
    assert [s for s, _, _ in got] == expected
    assert bits(got[0][1]) == wide["history"]["w/0000"][0][1]
    (run,) = json.loads(strata("runs", "--json", store=store).stdout)
    assert run["status"] == "crashed" and "ends inside a record" in run["meta"]["import.incomplete"]


def test_damaged_log_imports_up_to_the_damage_or_past_it(written, tmp_path):
    _, runs, logs = written
    wide = next(r for r in runs if r["name"] == "wide")
    recs = records(logs[wide["id"]])
    hist = [c for c, rec in recs if rec.WhichOneof("record_type") == "history"]
    bad_chunk = hist[1][1]  # a middle chunk of the second history row
    data = bytearray(open(logs[wide["id"]], "rb").read())
    data[bad_chunk[0] + 50] ^= 0x40
    d = tmp_path / "offline-run-bad"
    d.mkdir()
    (d / os.path.basename(logs[wide["id"]])).write_bytes(bytes(data))

    store = str(tmp_path / "s1")
    r = strata("import", "wandb", str(d), store=store)
    assert f"byte {bad_chunk[0]}: chunk checksum mismatch" in r.stderr, r.stderr
    assert "1 logs read up to damage" in r.stderr and "--skip-bad reads past it" in r.stderr, r.stderr
    before = [(c, rec) for c, rec in recs if c[-1][1] <= bad_chunk[0]]
    assert [s for s, _, _ in exported(store)[("wide", "w/0000")]] == history_steps(before, "w/0000") == [0]

    store = str(tmp_path / "s2")
    r = strata("import", "wandb", str(d), "--skip-bad", store=store)
    assert "1 damaged blocks" in r.stderr, r.stderr
    next_block = (bad_chunk[0] // 32768 + 1) * 32768
    readable = before + [(c, rec) for c, rec in recs if c[0][0] >= next_block]
    expected = history_steps(readable, "w/0000")
    assert expected == [0, 2]
    got = exported(store)[("wide", "w/0000")]
    assert [s for s, _, _ in got] == expected
    assert [bits(v) for _, v, _ in got] == [b for s, b in wide["history"]["w/0000"] if s in expected]


def test_not_a_wandb_log_is_named(tmp_path):
    d = tmp_path / "offline-run-x"
    d.mkdir()
    (d / "run-x.wandb").write_bytes(b"not a log at all")
    r = strata("import", "wandb", str(d), store=str(tmp_path / "s"), check=False)
    assert r.returncode == 1
    assert "run-x.wandb: byte 0: not a W&B transaction log" in r.stderr, r.stderr
