"""The artifacts and deployments tables of `strata export --format parquet` (docs/EXPORT.md) read by
pyarrow and DuckDB: the schema types of the docs, and every field equal to what
`strata artifacts --json` / `strata deployments --json` say; the docs' DuckDB query answers; and
`strata import parquet` of the dataset into a fresh store gives the same artifacts and deployments,
twice without duplicates."""
import datetime
import json
import os
import subprocess

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

from built import built  # noqa: E402

DIGEST = "ab" * 32
DATA = "0f" * 32
SMALL = "9c" * 32


def run(args, store, stdin=None):
    env = dict(os.environ, STRATA_STORE=store, STRATA_NO_PROGRESS="1")
    r = subprocess.run([built("strata", "STRATA_BIN")] + args, env=env, capture_output=True, text=True, input=stdin)
    if r.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def listing(store):
    """Artifacts and deployments as the CLI lists them, each with its run's name and project."""
    runs = {r["id"]: r for r in json.loads(run(["runs", "--json"], store).stdout)}
    arts = [json.loads(x) for x in run(["artifacts", "--json"], store).stdout.splitlines()]
    deps = [json.loads(x) for x in run(["deployments", "--json"], store).stdout.splitlines()]
    for x in arts + deps:
        x["run_name"] = runs[x["run"]]["name"]
        x["project"] = runs[x["run"]]["project"]
    return arts, deps


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("artifacts")
    store = str(tmp / "store")
    lines = "".join(
        json.dumps({"run": n, "project": p, "step": 1, "params": {"lr": lr}, "metrics": {"loss": 0.5}}) + "\n"
        for n, p, lr in [("high", "vision", 0.01), ("low", "vision", 0.0001), ("other", "nlp/x", 0.1)])
    run(["ingest"], store, stdin=lines)
    for args in [
        ["artifact", "high", "model", "--uri", "s3://b/model.pt", "--digest", DIGEST, "--size", "123456789", "--step", "40000"],
        ["artifact", "high", "train", "--uri", "file:///data/train.tar", "--digest", DATA, "--size", "0", "--kind", "dataset", "--input"],
        ["artifact", "other", "ckpt ✓", "--uri", "s3://b/c", "--digest", SMALL, "--size", "7", "--kind", "checkpoint", "--step=-3"],
        ["deploy", "high:model", "--env", "prod", "--at", "2026-11-03"],
        ["deploy", "high:model", "--env", "staging", "--at", "2026-10-01T08:30:00Z"],
        ["deploy", "other:ckpt ✓", "--env", "prod", "--at", "2026-11-10"],
    ]:
        run(args, store)
    out = str(tmp / "out")
    run(["export", "--format", "parquet", "--out", out], store)
    return store, out, tmp


def read(path):
    import pyarrow.dataset as ds
    return ds.dataset(path, partitioning=ds.partitioning(pa.schema([("project", pa.string())]), flavor="hive")).to_table()


def ms(ts):
    return int(ts.timestamp() * 1000)


def test_artifacts_table_has_every_field(exported):
    store, out, _ = exported
    arts, _ = listing(store)
    assert len(arts) == 3
    for f in os.listdir(os.path.join(out, "artifacts")):
        schema = pq.read_schema(os.path.join(out, "artifacts", f, "part-00000.parquet"))
        assert schema.metadata[b"strata.table"] == b"artifacts"
        types = {n: schema.field(n).type for n in schema.names}
        assert types == {
            "run_id": pa.string(), "run_name": pa.string(), "project": pa.string(), "name": pa.string(),
            "uri": pa.string(), "digest": pa.string(), "size": pa.int64(), "kind": pa.string(), "role": pa.string(),
            "step": pa.int64(), "metadata": pa.string(), "logged": pa.timestamp("ms", tz="UTC")}
        assert schema.field("step").nullable and not schema.field("digest").nullable
    rows = read(os.path.join(out, "artifacts")).to_pylist()
    got = sorted(({"run": r["run_id"], "run_name": r["run_name"], "project": r["project"], "name": r["name"],
                   "uri": r["uri"], "digest": r["digest"], "size": r["size"], "kind": r["kind"], "role": r["role"],
                   "step": r["step"], "logged": ms(r["logged"]), "metadata": json.loads(r["metadata"])} for r in rows),
                 key=lambda x: x["name"])
    assert got == sorted(arts, key=lambda x: x["name"])
    # DuckDB reads the same values.
    con = duckdb.connect()
    d = con.execute(f"SELECT name, role, size, step, epoch_ms(logged) FROM read_parquet('{out}/artifacts/**/*.parquet') ORDER BY name").fetchall()
    assert d == sorted((a["name"], a["role"], a["size"], a["step"], a["logged"]) for a in arts)


def test_deployments_table_has_every_field_and_the_docs_query_answers(exported):
    store, out, _ = exported
    _, deps = listing(store)
    assert len(deps) == 3
    rows = read(os.path.join(out, "deployments")).to_pylist()
    got = sorted(({"run": r["run_id"], "run_name": r["run_name"], "project": r["project"], "artifact": r["artifact"],
                   "digest": r["digest"], "environment": r["environment"], "at": ms(r["deployed_at"]), "recorded": ms(r["recorded"])}
                  for r in rows), key=lambda x: x["at"])
    assert got == sorted(deps, key=lambda x: x["at"])
    assert got[0]["at"] == ms(datetime.datetime(2026, 10, 1, 8, 30, tzinfo=datetime.timezone.utc))
    # docs/EXPORT.md: which run produced the model in service in prod on 2026-11-03.
    con = duckdb.connect()
    answer = con.execute(
        f"SELECT run_name, artifact, digest, deployed_at FROM read_parquet('{out}/deployments/**/*.parquet') "
        "WHERE environment = 'prod' AND deployed_at <= TIMESTAMP '2026-11-03 23:59:59' ORDER BY deployed_at DESC LIMIT 1").fetchall()
    assert [(r[0], r[1], r[2]) for r in answer] == [("high", "model", DIGEST)]
    # Joined with the artifacts table.
    joined = con.execute(
        f"SELECT a.uri, a.size FROM read_parquet('{out}/deployments/**/*.parquet') d "
        f"JOIN read_parquet('{out}/artifacts/**/*.parquet') a ON a.run_id = d.run_id AND a.name = d.artifact AND a.digest = d.digest "
        "WHERE d.environment = 'staging'").fetchall()
    assert joined == [("s3://b/model.pt", 123456789)]


def test_import_brings_them_back_once(exported):
    store, out, tmp = exported
    want = listing(store)

    def strip(listed):
        return [sorted(({k: v for k, v in x.items() if k != "run"} for x in part), key=json.dumps) for part in listed]

    target = str(tmp / "target")
    first = run(["import", "parquet", out], target)
    assert "3 artifacts, 3 deployments" in first.stderr
    assert strip(listing(target)) == strip(want)
    run(["import", "parquet", out], target)
    assert strip(listing(target)) == strip(want)
