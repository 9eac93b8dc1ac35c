"""`strata import mlflow` on a tracking database the real `mlflow` package writes
(sqlite:///mlflow.db, MLflow 3's default store), read through the system libsqlite3.

mlflow_db_writer.py logs runs in two experiments (params whose text is not what its number would
print, awkward doubles with NaN, ±Inf, −0.0 and subnormals, two values per step, a nested child,
a failed, a killed and a deleted run, a dataset input); the test imports the file (by path and by
`sqlite:///` URI) with the built `strata` and compares `strata export` / `strata runs --json` with
what MLflow's own client reads back, bit for bit.
"""
import json
import math
import os
import struct
import subprocess
import sys

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

from built import built  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAX = 1.7976931348623157e308


def strata(*args, store, check=True):
    r = subprocess.run([built("strata", "STRATA_BIN"), *args, "--store", store], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    r = subprocess.run([sys.executable, os.path.join(HERE, "mlflow_db_writer.py")], cwd=root, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return root, json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported(written, tmp_path_factory):
    root, _ = written
    store = str(tmp_path_factory.mktemp("store") / "s")
    r = strata("import", "mlflow", str(root / "mlflow.db"), store=store)
    return store, r.stderr


def exported(store):
    out = {}
    for line in strata("export", store=store).stdout.splitlines():
        p = json.loads(line)
        out.setdefault((p["run"], p["metric"]), []).append([p["step"], bits(p["value"]), p["time"]])
    return out


def test_metric_history_is_what_mlflow_reads_back(written, imported):
    _, logged = written
    store, report = imported
    assert report.startswith("imported 3 runs from mlflow: 4 series, 309 points, skipped 1 (1 deleted runs)"), report
    points = exported(store)
    for run in logged["runs"]:
        for key, hist in run["history"].items():
            # MLflow's SQL store keeps ±Inf as ±1.7976931348623157e308 (its client answers that);
            # Strata reads them back as ±Inf. NaN is the is_nan column.
            want = []
            for step, b, t in hist:
                v = from_bits(b)
                if abs(v) == MAX:
                    v = math.copysign(math.inf, v)
                want.append([step, bits(v) if not math.isnan(v) else bits(math.nan), t])
            got = [[s, bits(math.nan) if math.isnan(from_bits(b)) else b, t] for s, b, t in points[(run["name"], key)]]
            assert sorted(got) == sorted(want), (run["name"], key)
    # what was logged: NaN and ±Inf come back as such; −0.0 is 0.0 already in MLflow's database
    loss = points[("awkward", "loss")]
    assert [s for s, _, _ in loss] == [s for s, _, _ in logged["logged_loss"]]
    assert math.isnan(from_bits(loss[0][1])) and from_bits(loss[1][1]) == math.inf and from_bits(loss[2][1]) == -math.inf
    assert [b for _, b, _ in loss[4:]] == [b for _, b, _ in logged["logged_loss"][4:]]


def test_runs_params_tags_lineage_and_datasets(written, imported):
    _, logged = written
    store, _ = imported
    runs = {r["name"]: r for r in json.loads(strata("runs", "--json", store=store).stdout)}
    assert sorted(runs) == ["awkward", "child", "other-exp"]
    want = {r["name"]: r for r in logged["runs"]}
    for name, r in runs.items():
        w = want[name]
        assert r["project"] == w["experiment"]
        assert r["params"] == w["params"]  # the text exactly, "0.10", "007", " 5" and all
        assert r["created"] == w["start"] and r["ended"] == w["end"]
        assert r["meta"]["mlflow.run_id"] == w["id"] and r["meta"]["mlflow.status"] == w["status"]
    assert runs["awkward"]["status"] == "finished"
    assert runs["child"]["status"] == "failed" and runs["other-exp"]["status"] == "failed"
    assert runs["child"]["parent"] == runs["awkward"]["id"]
    assert runs["awkward"]["tags"] == ["team=vision"] and runs["awkward"]["meta"]["purpose"] == "a note"
    meta = runs["awkward"]["meta"]
    assert meta["dataset.mnist-train"] == "d1g35t"
    assert meta["dataset.mnist-train.context"] == "training"
    assert meta["dataset.mnist-train.source"] == 'local: {"uri": "/data/mnist"}'
    # the typed value is derived from the text: numbers compare as numbers, a string literal as text
    q = strata("runs", "--where", "params.lr < 0.2 and params.code == 7", "--columns", "name", store=store).stdout
    assert "awkward" in q and "other-exp" not in q
    q = strata("runs", "--where", "params.lr == '0.10'", "--columns", "name", store=store).stdout
    assert "awkward" in q and "other-exp" not in q


def test_uri_form_and_importing_again(written, imported):
    root, _ = written
    store, _ = imported
    r = strata("import", "mlflow", "sqlite:///" + str(root / "mlflow.db"), store=store)
    assert r.stderr.startswith("imported 0 runs from mlflow"), r.stderr
    assert "3 runs were imported before and left alone" in r.stderr, r.stderr
    rel = os.path.relpath(root / "mlflow.db")
    r = strata("import", "mlflow", "sqlite:///" + rel, "--again", store=store + "2")
    assert r.stderr.startswith("imported 3 runs from mlflow: 4 series, 309 points"), r.stderr


def test_a_sqlite_file_that_is_not_mlflow_is_named(tmp_path):
    import sqlite3
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE runs (x)")
    r = strata("import", "mlflow", str(db), store=str(tmp_path / "s"), check=False)
    assert r.returncode == 1
    assert f"{db}: not an MLflow tracking database (it has no table \"experiments\")" in r.stderr, r.stderr


def test_missing_or_foreign_file_is_named(tmp_path):
    r = strata("import", "mlflow", str(tmp_path / "mlflow.db"), store=str(tmp_path / "s"), check=False)
    assert r.returncode == 1 and f"strata: no such file or directory: {tmp_path / 'mlflow.db'}" in r.stderr, r.stderr
    (tmp_path / "notes.txt").write_text("not a database\n")
    r = strata("import", "mlflow", str(tmp_path / "notes.txt"), store=str(tmp_path / "s"), check=False)
    assert r.returncode == 1
    assert "notes.txt is neither an MLflow tracking database (SQLite) nor an mlruns directory" in r.stderr, r.stderr
