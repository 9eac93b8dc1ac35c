"""`strata export --format parquet` and `strata import parquet` against the real readers and writers.

(a) A store holding awkward doubles (NaN payloads, ±Inf, −0.0, subnormals, random bit patterns),
    context labels, two projects and typed params is exported; pyarrow, DuckDB and Polars read the
    dataset bit for bit, with the schema types of docs/EXPORT.md and correct column statistics.
    The store is filled by importing a long-form file written by pyarrow (the only way in that
    keeps NaN payloads), so the same test shows the import is bit-exact too.
(b) Files written by pyarrow (PLAIN and dictionary encodings, DELTA_BINARY_PACKED and
    BYTE_STREAM_SPLIT, SNAPPY/ZSTD/GZIP/uncompressed, data pages v1 and v2, small row groups)
    and a file in neptune-exporter's schema import bit for bit.
(c) Bad files: a clear error naming file, column and feature; nothing already stored is lost;
    re-running an import skips what is in.
(d) Worked queries of docs/EXPORT.md, run for real with DuckDB and Polars.
(e) Exporting 10 M points takes no more memory than exporting 1 M (peak RSS of the binary).
"""
import json
import math
import os
import random
import struct
import subprocess
from decimal import Decimal

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")
import numpy as np  # noqa: E402

from built import built  # noqa: E402


def strata():
    return built("strata", "STRATA_BIN")


def run(args, store, check=True):
    env = dict(os.environ, STRATA_STORE=store, STRATA_NO_PROGRESS="1")
    r = subprocess.run([strata()] + args, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def awkward(n, seed):
    fixed = [0x7FF8000000000000, 0x7FF8000000000001, 0xFFF8DEADBEEF0001, 0x7FF0000000000001,
             0x7FF0000000000000, 0xFFF0000000000000, 0x8000000000000000, 0, 1,
             0x800FFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF, 0x000FFFFFFFFFFFFF]
    rng = random.Random(seed)
    out = fixed + [rng.getrandbits(64) for _ in range(n - len(fixed))]
    return np.array(out[:n], dtype=np.uint64).view(np.float64)


def value_bits(column):
    """The bit patterns of a pyarrow double column (NaN payloads kept)."""
    return np.asarray(column.combine_chunks() if hasattr(column, "combine_chunks") else column,
                      dtype=np.float64).view(np.uint64).tolist()


def read_dataset(path):
    """A table of the dataset as docs/EXPORT.md reads it with pyarrow: Hive partitioning with a
    string `project` (pyarrow's default would infer a dictionary type that clashes with the column)."""
    import pyarrow.dataset as ds
    return ds.dataset(path, partitioning=ds.partitioning(pa.schema([("project", pa.string())]), flavor="hive")).to_table()


LONG_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("run_name", pa.string()), ("project", pa.string()),
    ("metric", pa.string()), ("label.rank", pa.string()),
    ("step", pa.int64()), ("value", pa.float64()), ("time", pa.timestamp("ms", tz="UTC")),
])


def source_points():
    """Rows of the source long-form file: two projects, labels, awkward values."""
    rows = []
    specs = [("r1", "alpha", "proj/a", "loss", None, 300), ("r1", "alpha", "proj/a", "loss", "0", 50),
             ("r1", "alpha", "proj/a", "loss", "1", 50), ("r2", "beta", "proj/a", "val/loss", None, 200),
             ("r3", "gamma", "b", "acc", None, 120)]
    for k, (rid, name, project, metric, rank, n) in enumerate(specs):
        vals = awkward(n, seed=k)
        for i in range(n):
            step = [-(2 ** 63), 2 ** 63 - 1][i] if (k == 0 and i < 2) else i * 3 - 7
            rows.append((rid, name, project, metric, rank, step, float(vals[i]), 1_700_000_000_000 + i * 1000 - 5))
    return rows


def write_long(path, rows, **kwargs):
    cols = list(zip(*rows))
    arrays = [pa.array(cols[i], type=LONG_SCHEMA.field(i).type) for i in range(7)]
    arrays.append(pa.array(cols[7], type=pa.int64()).cast(pa.timestamp("ms", tz="UTC")))
    # Values through numpy so NaN payloads reach the file untouched.
    arrays[6] = pa.array(np.array(cols[6], dtype=np.float64))
    pq.write_table(pa.Table.from_arrays(arrays, schema=LONG_SCHEMA), path, **kwargs)


def runs_table(path):
    params = [{"lr": 0.001, "layers": 12, "amp": True, "model": "base", "mixed": 1},
              {"lr": 3e-4, "layers": 24, "amp": False, "model": "large", "mixed": 2.5},
              {"lr": 1e-5, "layers": 6, "model": "small", "mixed": "x"}]
    t = pa.table({
        "id": ["r1", "r2", "r3"], "name": ["alpha", "beta", "gamma"], "project": ["proj/a", "proj/a", "b"],
        "status": ["finished", "failed", "running"],
        "created": pa.array([1_600_000_000_000, 1_600_000_001_000, 1_600_000_002_000], pa.timestamp("ms", tz="UTC")),
        "ended": pa.array([1_600_000_100_000, None, None], pa.timestamp("ms", tz="UTC")),
        "parent": [None, "r1", None], "tags": ['["a","b"]', "[]", '["c"]'],
        "params": [json.dumps(p) for p in params], "metadata": ['{"git.commit":"abc"}', "{}", "{}"],
    })
    pq.write_table(t, path)
    return params


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pq")
    src = tmp / "src"
    (src / "points").mkdir(parents=True)
    (src / "runs").mkdir()
    rows = source_points()
    write_long(str(src / "points" / "part-0.parquet"), rows, compression="zstd", row_group_size=333)
    params = runs_table(str(src / "runs" / "part-0.parquet"))
    store = str(tmp / "store")
    r = run(["import", "parquet", str(src)], store)
    assert "imported 3 runs" in r.stderr, r.stderr
    out = tmp / "out"
    r = run(["export", "--format", "parquet", "--out", str(out)], store)
    assert f"{len(rows):,} points" in r.stderr, r.stderr
    return rows, params, str(out), store, tmp


def key(run_name, metric, rank, step):
    return (run_name, metric, rank, step)


def expected_bits(rows):
    return {key(r[1], r[3], r[4], r[5]): bits(r[6]) for r in rows}


def test_dataset_layout_is_hive_partitioned(exported):
    _, _, out, _, _ = exported
    files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    assert files == ["points/project=b/part-00000.parquet", "points/project=proj%2Fa/part-00000.parquet",
                     "runs/project=b/part-00000.parquet", "runs/project=proj%2Fa/part-00000.parquet"]


def test_pyarrow_reads_points_bit_exact_with_documented_types(exported):
    rows, _, out, _, _ = exported
    t = read_dataset(os.path.join(out, "points"))
    schema = pq.read_schema(os.path.join(out, "points", "project=b", "part-00000.parquet"))
    assert [(f.name, str(f.type), f.nullable) for f in schema] == [
        ("run_id", "string", False), ("run_name", "string", False), ("project", "string", False),
        ("metric", "string", False), ("label.rank", "string", True), ("step", "int64", False),
        ("value", "double", False), ("time", "timestamp[ms, tz=UTC]", False)]
    assert schema.metadata[b"strata.table"] == b"points"
    got = {key(n, m, r, s): b for n, m, r, s, b in zip(
        t.column("run_name").to_pylist(), t.column("metric").to_pylist(), t.column("label.rank").to_pylist(),
        t.column("step").to_pylist(), value_bits(t.column("value")))}
    assert got == expected_bits(rows)
    times = {key(n, m, r, s): tm for n, m, r, s, tm in zip(
        t.column("run_name").to_pylist(), t.column("metric").to_pylist(), t.column("label.rank").to_pylist(),
        t.column("step").to_pylist(), t.column("time").cast(pa.int64()).to_pylist())}
    assert times == {key(r[1], r[3], r[4], r[5]): r[7] for r in rows}
    assert set(t.column("project").to_pylist()) == {"proj/a", "b"}


def test_encodings_and_statistics(exported):
    rows, _, out, _, _ = exported
    f = pq.ParquetFile(os.path.join(out, "points", "project=proj%2Fa", "part-00000.parquet"))
    t = f.read()
    for g in range(f.metadata.num_row_groups):
        rg = f.metadata.row_group(g)
        cols = {rg.column(c).path_in_schema: rg.column(c) for c in range(rg.num_columns)}
        assert "DELTA_BINARY_PACKED" in cols["step"].encodings and "DELTA_BINARY_PACKED" in cols["time"].encodings
        assert "BYTE_STREAM_SPLIT" in cols["value"].encodings
        assert cols["run_id"].has_dictionary_page and cols["metric"].has_dictionary_page
        vals = [v for v in t.column("value").to_pylist() if not math.isnan(v)]
        st = cols["value"].statistics
        assert st.null_count == 0 and st.min == min(vals) and st.max == max(vals)
        assert cols["step"].statistics.min == min(t.column("step").to_pylist())
        assert cols["step"].statistics.max == max(t.column("step").to_pylist())
        ranks = t.column("label.rank").to_pylist()
        assert cols["label.rank"].statistics.null_count == sum(1 for x in ranks if x is None)
        assert cols["label.rank"].statistics.min == min(x for x in ranks if x is not None)
        names = t.column("run_name").to_pylist()
        assert (cols["run_name"].statistics.min, cols["run_name"].statistics.max) == (min(names), max(names))


def test_duckdb_reads_the_dataset_bit_exact(exported):
    rows, _, out, _, _ = exported
    con = duckdb.connect()
    t = con.sql(f"""SELECT run_name, metric, "label.rank", step, value, project
                    FROM read_parquet('{out}/points/**/*.parquet', hive_partitioning = true)""").to_arrow_table()
    got = {key(n, m, r, s): b for n, m, r, s, b in zip(
        t.column("run_name").to_pylist(), t.column("metric").to_pylist(), t.column("label.rank").to_pylist(),
        t.column("step").to_pylist(), value_bits(t.column("value")))}
    assert got == expected_bits(rows)
    types = {r[0]: r[1] for r in con.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}/points/**/*.parquet')").fetchall()}
    assert types["step"] == "BIGINT" and types["value"] == "DOUBLE" and types["time"] == "TIMESTAMP WITH TIME ZONE"


def test_runs_table_types_and_params(exported):
    _, params, out, _, _ = exported
    t = read_dataset(os.path.join(out, "runs"))
    s = t.schema
    assert str(s.field("created").type) == "timestamp[ms, tz=UTC]" and str(s.field("ended").type) == "timestamp[ms, tz=UTC]"
    assert str(s.field("param.lr").type) == "double" and str(s.field("param.layers").type) == "int64"
    assert str(s.field("param.amp").type) == "bool" and str(s.field("param.model").type) == "string"
    assert str(s.field("param.mixed").type) == "string"  # int, double and string across runs
    by_name = {r["name"]: r for r in t.to_pylist()}
    for name, p in zip(["alpha", "beta", "gamma"], params):
        r = by_name[name]
        assert r["param.lr"] == p["lr"] and r["param.layers"] == p["layers"] and r["param.amp"] == p.get("amp")
        assert json.loads(r["params"]) == p
    assert by_name["alpha"]["status"] == "finished" and by_name["beta"]["status"] == "failed"
    assert json.loads(by_name["alpha"]["tags"]) == ["a", "b"]
    assert json.loads(by_name["alpha"]["metadata"])["git.commit"] == "abc"
    assert by_name["beta"]["parent"] == by_name["alpha"]["id"]
    assert json.loads(by_name["gamma"]["summaries"])["acc"]["count"] == 120


def test_export_import_export_round_trip_is_identical(exported):
    rows, _, out, _, tmp = exported
    store2 = str(tmp / "store2")
    run(["import", "parquet", out], store2)
    out2 = str(tmp / "out2")
    run(["export", "--format", "parquet", "--out", out2], store2)
    q = ("SELECT run_name, project, metric, \"label.rank\", step, value, time FROM read_parquet('{}/points/**/*.parquet') "
         "ORDER BY ALL")
    a = duckdb.connect().sql(q.format(out)).to_arrow_table()
    b = duckdb.connect().sql(q.format(out2)).to_arrow_table()
    assert a.num_rows == len(rows)
    assert value_bits(a.column("value")) == value_bits(b.column("value"))
    assert a.drop_columns(["value"]).equals(b.drop_columns(["value"]))


def test_import_again_skips_what_is_in(exported):
    _, _, _, store, tmp = exported
    r = run(["import", "parquet", str(tmp / "src")], store)
    assert "imported 0 runs" in r.stderr and "3 runs were imported before" in r.stderr


def test_export_where_selects_runs(exported):
    _, _, _, store, tmp = exported
    out = str(tmp / "where")
    run(["export", "--format", "parquet", "--out", out, "--where", "params.layers >= 12"], store)
    t = read_dataset(os.path.join(out, "points"))
    assert set(t.column("run_name").to_pylist()) == {"alpha", "beta"}


def test_export_into_a_non_empty_directory_is_refused(exported):
    _, _, out, store, _ = exported
    r = run(["export", "--format", "parquet", "--out", out], store, check=False)
    assert r.returncode != 0 and "not empty" in r.stderr


# (b) files written by pyarrow

@pytest.mark.parametrize("options", [
    dict(compression="snappy", use_dictionary=True, data_page_version="1.0", row_group_size=100),
    dict(compression="zstd", use_dictionary=False, data_page_version="2.0", row_group_size=1000),
    dict(compression="gzip", use_dictionary=True, data_page_version="2.0", row_group_size=7),
    dict(compression="none", use_dictionary=False, data_page_version="1.0",
         column_encoding={"step": "DELTA_BINARY_PACKED", "value": "BYTE_STREAM_SPLIT"}),
])
def test_pyarrow_written_files_import_bit_exact(tmp_path, options):
    rows = source_points()
    path = str(tmp_path / "in.parquet")
    write_long(path, rows, **options)
    store = str(tmp_path / "store")
    r = run(["import", "parquet", path], store)
    assert f"{len(rows):,} points" in r.stderr
    out = str(tmp_path / "out")
    run(["export", "--format", "parquet", "--out", out], store)
    t = read_dataset(os.path.join(out, "points"))
    got = {key(n, m, rk, s): b for n, m, rk, s, b in zip(
        t.column("run_name").to_pylist(), t.column("metric").to_pylist(), t.column("label.rank").to_pylist(),
        t.column("step").to_pylist(), value_bits(t.column("value")))}
    assert got == expected_bits(rows)


NEPTUNE_SCHEMA = pa.schema([
    ("project_id", pa.string()), ("run_id", pa.string()), ("attribute_path", pa.string()),
    ("attribute_type", pa.string()), ("step", pa.decimal128(18, 6)),
    ("timestamp", pa.timestamp("ms", tz="UTC")), ("int_value", pa.int64()), ("float_value", pa.float64()),
    ("string_value", pa.string()), ("bool_value", pa.bool_()), ("datetime_value", pa.timestamp("ms", tz="UTC")),
    ("string_set_value", pa.list_(pa.string())), ("file_value", pa.struct([("path", pa.string())])),
    ("histogram_value", pa.struct([("type", pa.string()), ("edges", pa.list_(pa.float64())),
                                   ("values", pa.list_(pa.float64()))])),
])


def neptune_rows(fractional=False):
    rows = []
    vals = awkward(150, seed=9)

    def row(run_id, path, typ, **kw):
        r = dict(project_id="org/proj", run_id=run_id, attribute_path=path, attribute_type=typ, step=None,
                 timestamp=None, int_value=None, float_value=None, string_value=None, bool_value=None,
                 datetime_value=None, string_set_value=None, file_value=None, histogram_value=None)
        r.update(kw)
        rows.append(r)
    for run_id, n in (("RUN-1", 100), ("RUN-2", 50)):
        row(run_id, "parameters/lr", "float", float_value=0.001)
        row(run_id, "parameters/layers", "int", int_value=12)
        row(run_id, "parameters/opt", "string", string_value="adam")
        row(run_id, "parameters/amp", "bool", bool_value=True)
        row(run_id, "sys/creation_time", "datetime", datetime_value=1_650_000_000_000)
        row(run_id, "sys/tags", "string_set", string_set_value=["x", "y"])
        row(run_id, "model/ckpt", "file", file_value={"path": "a/b"})
        for i in range(n):
            row(run_id, "metrics/loss", "float_series", step=Decimal(i * 2), timestamp=1_650_000_000_000 + i,
                float_value=float(vals[i if run_id == "RUN-1" else 100 + i]))
    if fractional:
        row("RUN-3", "metrics/loss", "float_series", step=Decimal("1.5"), timestamp=1, float_value=1.0)
    return rows


def write_neptune(path, rows, **kw):
    table = pa.Table.from_pylist(rows, schema=NEPTUNE_SCHEMA)
    # float_value through numpy, so NaN payloads survive.
    fv = [r["float_value"] for r in rows]
    mask = np.array([v is None for v in fv])
    arr = np.array([0.0 if v is None else v for v in fv], dtype=np.float64)
    table = table.set_column(7, "float_value", pa.array(arr, mask=mask))
    pq.write_table(table, path, compression="snappy", **kw)


def test_neptune_exporter_files_import(tmp_path):
    rows = neptune_rows()
    d = tmp_path / "org_proj"
    d.mkdir()
    # Two parts, the first run spanning both (as neptune-exporter's ~50 MB parts may).
    write_neptune(str(d / "part_0.parquet"), rows[:60])
    write_neptune(str(d / "part_1.parquet"), rows[60:], row_group_size=40)
    store = str(tmp_path / "store")
    r = run(["import", "parquet", str(d)], store)
    assert "imported 2 runs" in r.stderr and "150 points" in r.stderr, r.stderr
    assert "neptune string_set attributes" in r.stderr and "neptune file attributes" in r.stderr
    out = str(tmp_path / "out")
    run(["export", "--format", "parquet", "--out", out], store)
    t = read_dataset(os.path.join(out, "points"))
    got = {(n, s): b for n, s, b in zip(t.column("run_name").to_pylist(), t.column("step").to_pylist(),
                                         value_bits(t.column("value")))}
    want = {(r["run_id"], int(r["step"])): bits(r["float_value"]) for r in rows if r["attribute_type"] == "float_series"}
    assert got == want
    assert set(t.column("project").to_pylist()) == {"org/proj"}
    assert set(t.column("metric").to_pylist()) == {"metrics/loss"}
    runs = {r["name"]: r for r in read_dataset(os.path.join(out, "runs")).to_pylist()}
    assert runs["RUN-1"]["param.parameters/lr"] == 0.001 and runs["RUN-1"]["param.parameters/layers"] == 12
    assert runs["RUN-1"]["param.parameters/opt"] == "adam" and runs["RUN-1"]["param.parameters/amp"] is True
    assert runs["RUN-1"]["created"].timestamp() == 1_650_000_000
    assert json.loads(runs["RUN-1"]["metadata"])["neptune.sys/creation_time"] == 1_650_000_000_000


def test_neptune_fractional_step_is_an_error_unless_skipped(tmp_path):
    path = str(tmp_path / "n.parquet")
    write_neptune(path, neptune_rows(fractional=True))
    store = str(tmp_path / "store")
    r = run(["import", "parquet", path], store, check=False)
    assert r.returncode != 0 and "fraction" in r.stderr and path in r.stderr
    r = run(["import", "parquet", "--skip-bad", path], store)
    assert "1 points with a fractional step" in r.stderr


# (c) bad files

def test_bad_files_get_clear_errors_and_keep_the_store(tmp_path):
    store = str(tmp_path / "store")
    good = str(tmp_path / "good.parquet")
    write_long(good, source_points()[:10])
    run(["import", "parquet", good], store)
    before = run(["export", "--format", "jsonl"], store).stdout
    # Truncated.
    data = open(good, "rb").read()
    trunc = str(tmp_path / "trunc.parquet")
    open(trunc, "wb").write(data[:len(data) // 2])
    r = run(["import", "parquet", trunc], store, check=False)
    assert r.returncode != 0 and trunc in r.stderr and "PAR1" in r.stderr
    # Corrupt page bytes.
    bad = bytearray(data)
    for i in range(20, 60):
        bad[i] ^= 0x5A
    corrupt = str(tmp_path / "corrupt.parquet")
    open(corrupt, "wb").write(bytes(bad))
    r = run(["import", "parquet", "--again", corrupt], store, check=False)
    assert r.returncode != 0 and corrupt in r.stderr and "row group 0" in r.stderr and "column" in r.stderr
    # A schema without the needed columns.
    other = str(tmp_path / "other.parquet")
    pq.write_table(pa.table({"a": [1], "b": ["x"]}), other)
    r = run(["import", "parquet", other], store, check=False)
    assert r.returncode != 0 and other in r.stderr and "neither Strata's long form" in r.stderr
    # An encoding the reader does not implement: named with the column.
    delta = str(tmp_path / "delta.parquet")
    write_long(delta, source_points()[:10], use_dictionary=False, column_encoding={"metric": "DELTA_BYTE_ARRAY"})
    r = run(["import", "parquet", delta], store, check=False)
    assert r.returncode != 0 and "column 'metric'" in r.stderr and "DELTA_BYTE_ARRAY" in r.stderr
    assert run(["export", "--format", "jsonl"], store).stdout == before


# (d) the worked queries of docs/EXPORT.md

def docs_block(after, language):
    """The first ```language block after the line containing `after` in docs/EXPORT.md."""
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "EXPORT.md")).read()
    start = text.index("```" + language + "\n", text.index(after)) + len(language) + 4
    return text[start:text.index("```", start)]


def best_val_loss(out):
    t = read_dataset(os.path.join(out, "points")).to_pylist()
    runs = {r["id"]: r for r in read_dataset(os.path.join(out, "runs")).to_pylist()}
    best = {}
    for r in t:
        if r["metric"] == "val/loss" and not math.isnan(r["value"]) and runs[r["run_id"]]["param.lr"] < 1e-3:
            best[r["run_id"]] = min(best.get(r["run_id"], math.inf), r["value"])
    return sorted(((runs[k]["name"], runs[k]["param.lr"], v) for k, v in best.items()), key=lambda x: x[2])


def test_docs_duckdb_query_best_val_loss_per_run(exported):
    _, _, out, _, _ = exported
    con = duckdb.connect()
    statements = [q for q in docs_block("**DuckDB**", "sql").replace("DIR", out).split(";") if q.strip()]
    for q in statements[:-1]:
        con.execute(q)
    got = con.sql(statements[-1]).fetchall()
    assert got == best_val_loss(out) and len(got) == 1


def test_docs_polars_query_best_val_loss_per_run(exported):
    pytest.importorskip("polars")
    _, _, out, _, _ = exported
    scope = {}
    exec(docs_block("**Polars**", "python").replace("DIR", out), scope)
    got = scope["best"].select("name", "param.lr", "best").rows()
    assert got == best_val_loss(out) and len(got) == 1
    # Polars reads every value bit for bit too.
    df = scope["points"].select("run_name", "metric", "label.rank", "step", "value").collect()
    got_bits = dict(zip(zip(df["run_name"].to_list(), df["metric"].to_list(), df["label.rank"].to_list(),
                            df["step"].to_list()), df["value"].to_numpy().view(np.uint64).tolist()))
    assert got_bits == expected_bits(exported[0])


# (e) bounded memory

def peak_rss_kb(args, store):
    env = dict(os.environ, STRATA_STORE=store, STRATA_NO_PROGRESS="1")
    p = subprocess.Popen([strata()] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pid, status, usage = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, p.stderr.read()
    return usage.ru_maxrss


def test_export_memory_does_not_grow_with_the_points(tmp_path):
    writer = built("strata-test-writer", "STRATA_TEST_WRITER", build="swift build --build-tests")
    sizes = {}
    for points in (1_000_000, 10_000_000):
        store = str(tmp_path / f"s{points}")
        # 3 series of points/3 steps each, written in bulk.
        subprocess.run([writer, store, "r", "m", str(points // 3), "--bulk"], check=True, capture_output=True)
        out = str(tmp_path / f"o{points}")
        sizes[points] = peak_rss_kb(["export", "--format", "parquet", "--out", out], store)
        n = pq.ParquetFile(os.path.join(out, "points", "project=default", "part-00000.parquet")).metadata.num_rows
        assert n == points // 3 * 3
    # Ten times the points, about the same memory: within 25% (+ 16 MB for allocator noise), not 10x.
    assert sizes[10_000_000] <= sizes[1_000_000] * 1.25 + 16_384, sizes
