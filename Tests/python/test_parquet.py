"""StrataParquet against the real Parquet readers and writers.

(a) Files written by the Swift writer (through the test helper strata-parquet-tool) with awkward
    doubles, strings, every codec and encoding, several row groups and optional columns with nulls
    are read back by pyarrow and DuckDB bit for bit, with the documented schema types and
    column-chunk statistics.
(b) Files written by pyarrow with several encodings, codecs, row-group sizes and data page
    versions 1 and 2 are read bit for bit by the Swift reader.
(c) A file shaped like neptune-exporter's output (its pyarrow schema, Snappy) is read.

The helper is $STRATA_PARQUET_TOOL, else REPO/.build/debug/strata-parquet-tool (built by
`swift build --build-tests`).
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
import numpy as np  # noqa: E402  (after the skips above)

from built import REPO, built  # noqa: E402


def tool():
    return built("strata-parquet-tool", "STRATA_PARQUET_TOOL", build="swift build --build-tests")


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def awkward_double_bits(n, seed):
    fixed = [
        0x7FF8000000000000, 0x7FF8000000000001, 0xFFF8DEADBEEF0001, 0x7FF4000000000000,  # NaN payloads
        0x7FF0000000000000, 0xFFF0000000000000, 0x8000000000000000, 0,  # ±Inf, −0.0, +0.0
        1, 0x000FFFFFFFFFFFFF, 0x800FFFFFFFFFFFFF, 0x0010000000000000,  # subnormals, smallest normal
        0x7FEFFFFFFFFFFFFF, bits(0.1), bits(1 / 3),
    ]
    rng = random.Random(seed)
    return (fixed + [rng.getrandbits(64) for _ in range(n)])[:n]


def raw_u64(chunked):
    """The 64-bit patterns of a pyarrow column (None where null), read from its buffers."""
    out = []
    for chunk in chunked.chunks:
        data = np.frombuffer(chunk.buffers()[1], dtype=np.uint64)[chunk.offset:chunk.offset + len(chunk)]
        valid = chunk.is_valid().to_pylist()
        out += [int(v) if ok else None for v, ok in zip(data, valid)]
    return out


def raw_u32(chunked):
    out = []
    for chunk in chunked.chunks:
        data = np.frombuffer(chunk.buffers()[1], dtype=np.uint32)[chunk.offset:chunk.offset + len(chunk)]
        valid = chunk.is_valid().to_pylist()
        out += [int(v) if ok else None for v, ok in zip(data, valid)]
    return out


def run_tool(*args, stdin=None):
    p = subprocess.run([tool(), *args], input=stdin, capture_output=True, text=True)
    return p


# MARK: (a) Swift writer → pyarrow, DuckDB

ENCODINGS = {
    "defaults": {},
    "plain": {"step": "plain", "time": "plain", "value": "plain", "maybe": "plain", "metric": "plain", "note": "plain"},
    "dictionary": {"step": "dictionary", "time": "dictionary", "value": "dictionary", "maybe": "dictionary"},
    "split": {"step": "byte_stream_split", "time": "delta", "value": "byte_stream_split", "maybe": "plain"},
}


def swift_table(rows, seed):
    rng = random.Random(seed)
    names = ["", "loss", "val/loss", "ünïcödé ✓", "日本語", "emoji 🦀", "a\u0000b", "x" * 300]
    step = -3
    steps = []
    for i in range(rows):
        step += rng.randrange(3)
        steps.append(step)
    steps[5] = -(1 << 63)
    steps[6] = (1 << 63) - 1
    cols = [
        ("step", "int64", False, [s & 0xFFFFFFFFFFFFFFFF for s in steps]),
        ("time", "timestamp_millis", True,
         [None if rng.randrange(5) == 0 else 1_767_225_600_000 + i * 13 for i in range(rows)]),
        ("value", "double", False, awkward_double_bits(rows, seed)),
        ("maybe", "double", True,
         [None if i < 40 or rng.randrange(3) == 0 else b for i, b in enumerate(awkward_double_bits(rows, seed + 1))]),
        ("metric", "string", False, [f"distinct {i}" if i % 7 == 0 else rng.choice(names) for i in range(rows)]),
        ("note", "string", True, [None if rng.randrange(4) == 0 else rng.choice(names) for _ in range(rows)]),
        ("flag", "boolean", True, [None if rng.randrange(3) == 0 else rng.randrange(2) == 1 for _ in range(rows)]),
    ]
    return cols


def spec_for(cols, codec, page_version, encodings, row_group_rows=1000):
    out = []
    for name, kind, optional, values in cols:
        c = {"name": name, "kind": kind, "optional": optional}
        if name in encodings:
            c["encoding"] = encodings[name]
        if kind in ("int64", "timestamp_millis", "double"):
            c["values"] = [None if v is None else format(v, "016x") for v in values]
        else:
            c["values"] = values
        out.append(c)
    return {"options": {"compression": codec, "rowGroupRows": row_group_rows, "pageRows": 300,
                        "dataPageVersion": page_version, "metadata": {"writer": "test"}},
            "columns": out}


def expected_stats(kind, values):
    present = [v for v in values if v is not None]
    nulls = len(values) - len(present)
    if kind == "double":
        finite = [struct.unpack("<d", struct.pack("<Q", v))[0] for v in present]
        finite = [x for x in finite if not math.isnan(x)]
        if not finite:
            return None, None, nulls
        lo, hi = min(finite), max(finite)
        return (-0.0 if lo == 0 else lo), (0.0 if hi == 0 else hi), nulls
    if kind in ("int64", "timestamp_millis"):
        signed = [v - (1 << 64) if v >= 1 << 63 else v for v in present]
        return (min(signed), max(signed), nulls) if signed else (None, None, nulls)
    if kind == "string":
        enc = [v.encode() for v in present]
        return (min(enc), max(enc), nulls) if enc else (None, None, nulls)
    return (min(present), max(present), nulls) if present else (None, None, nulls)


def check_column(name, kind, values, column):
    if kind == "double":
        assert raw_u64(column) == values, name
    elif kind == "timestamp_millis":
        # DuckDB hands timestamps out in microseconds: compare the instants in milliseconds.
        assert pa.types.is_timestamp(column.type) and column.type.tz is not None, name
        assert raw_u64(column.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())) == values, name
    elif kind == "int64":
        assert raw_u64(column.cast(pa.int64())) == values, name
    else:
        assert column.to_pylist() == values, name


@pytest.mark.parametrize("codec", ["uncompressed", "lz4_raw", "zstd", "snappy"])
@pytest.mark.parametrize("page_version", [1, 2])
@pytest.mark.parametrize("encodings", sorted(ENCODINGS))
def test_swift_file_read_by_pyarrow_and_duckdb(tmp_path, codec, page_version, encodings):
    cols = swift_table(2500, seed=len(codec) * 10 + page_version)
    path = str(tmp_path / "swift.parquet")
    p = run_tool("write", path, stdin=json.dumps(spec_for(cols, codec, page_version, ENCODINGS[encodings])))
    assert p.returncode == 0, p.stderr

    f = pq.ParquetFile(path)
    md = f.metadata
    assert md.num_rows == 2500 and md.num_row_groups == 3
    assert md.metadata[b"writer"] == b"test"
    schema = f.schema_arrow
    want_types = {"int64": pa.int64(), "timestamp_millis": pa.timestamp("ms", tz="UTC"), "double": pa.float64(),
                  "string": pa.string(), "boolean": pa.bool_()}
    for name, kind, optional, _ in cols:
        field = schema.field(name)
        assert field.type == want_types[kind], name
        assert field.nullable == optional, name
    # pyarrow calls LZ4_RAW "LZ4" (it writes no other LZ4); DuckDB's name is checked below.
    expected_codec = {"uncompressed": "UNCOMPRESSED", "lz4_raw": "LZ4", "zstd": "ZSTD", "snappy": "SNAPPY"}[codec]
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        lo_row = g * 1000
        for c, (name, kind, optional, values) in enumerate(cols):
            meta = rg.column(c)
            assert meta.compression == expected_codec
            st = meta.statistics
            lo, hi, nulls = expected_stats(kind, values[lo_row:lo_row + rg.num_rows])
            assert st.null_count == nulls, name
            if lo is None:
                assert not st.has_min_max, name
                continue
            assert st.has_min_max, name
            got_lo, got_hi = st.min, st.max
            if kind == "double":
                assert bits(got_lo) == bits(lo) and bits(got_hi) == bits(hi), (name, got_lo, got_hi, lo, hi)
            elif kind == "string":
                assert (got_lo.encode(), got_hi.encode()) == (lo, hi), name
            elif kind == "timestamp_millis":
                assert (st.min_raw, st.max_raw) == (lo, hi), name
            else:
                assert (got_lo, got_hi) == (lo, hi), name

    table = pq.read_table(path)
    for name, kind, optional, values in cols:
        check_column(name, kind, values, table.column(name))

    dtable = duckdb.sql(f"select * from read_parquet('{path}')").to_arrow_table()
    for name, kind, optional, values in cols:
        check_column(name, kind, values, dtable.column(name))
    codecs = duckdb.sql(f"select distinct compression from parquet_metadata('{path}')").fetchall()
    assert codecs == [(codec.upper(),)]
    # DuckDB's own view of the statistics agrees on the null counts.
    nulls = duckdb.sql(f"select path_in_schema, sum(stats_null_count) from parquet_metadata('{path}') group by 1").fetchall()
    for name, null_sum in nulls:
        col = next(c for c in cols if c[0] == name)
        assert null_sum == sum(v is None for v in col[3]), name


def test_swift_writer_streams_many_row_groups(tmp_path):
    rows = 20_000
    cols = [("step", "int64", False, list(range(rows))),
            ("value", "double", False, awkward_double_bits(rows, 5))]
    path = str(tmp_path / "many.parquet")
    spec = spec_for(cols, "zstd", 1, {}, row_group_rows=1500)
    assert run_tool("write", path, stdin=json.dumps(spec)).returncode == 0
    md = pq.ParquetFile(path).metadata
    assert md.num_row_groups == 14
    assert [md.row_group(g).num_rows for g in range(14)] == [1500] * 13 + [500]
    table = pq.read_table(path)
    assert raw_u64(table.column("value")) == cols[1][3]
    assert table.column("step").to_pylist() == cols[0][3]


# MARK: (b) pyarrow writer → Swift reader

def arrow_table(rows, seed):
    rng = random.Random(seed)
    dbl = awkward_double_bits(rows, seed)
    flt = [rng.getrandbits(32) for _ in range(rows)]
    flt[:5] = [0x7FC00001, 0xFF800000, 0x80000000, 0x00000001, 0x7F800000]
    ints = [rng.randrange(-(1 << 63), 1 << 63) if rng.randrange(2) else i for i in range(rows)]
    strs = [None if rng.randrange(5) == 0 else rng.choice(["", "a", "ü✓", "日本", f"s{i}"]) for i in range(rows)]
    return {
        "i": pa.array([None if k % 11 == 0 else v for k, v in enumerate(ints)], pa.int64()),
        "j": pa.array([rng.randrange(-(1 << 31), 1 << 31) for _ in range(rows)], pa.int32()),
        "f": pa.array(np.array(flt, dtype=np.uint32).view(np.float32), pa.float32()),
        "d": pa.array(np.array(dbl, dtype=np.uint64).view(np.float64), pa.float64()),
        "s": pa.array(strs, pa.string()),
        "b": pa.array([None if k % 7 == 0 else rng.randrange(2) == 1 for k in range(rows)], pa.bool_()),
        "t": pa.array([1_767_225_600_000 + k * 7 for k in range(rows)], pa.timestamp("ms", tz="UTC")),
    }


def expected_hex(column):
    t = column.type
    if t in (pa.float64(), pa.int64()) or pa.types.is_timestamp(t):
        vals = raw_u64(column if t == pa.float64() else column.cast(pa.int64()))
        return [None if v is None else format(v, "016x") for v in vals]
    if t in (pa.float32(), pa.int32()):
        vals = raw_u32(column)
        return [None if v is None else format(v, "08x") for v in vals]
    if t == pa.string():
        return [None if v is None else v.encode().hex() for v in column.to_pylist()]
    return column.to_pylist()


ARROW_MODES = {
    "dictionary": dict(use_dictionary=True),
    "plain": dict(use_dictionary=False),
    "delta": dict(use_dictionary=False, column_encoding={"i": "DELTA_BINARY_PACKED", "j": "DELTA_BINARY_PACKED",
                                                         "t": "DELTA_BINARY_PACKED"}),
    "byte_stream_split": dict(use_dictionary=False, column_encoding={"f": "BYTE_STREAM_SPLIT", "d": "BYTE_STREAM_SPLIT",
                                                                     "i": "BYTE_STREAM_SPLIT", "j": "BYTE_STREAM_SPLIT"}),
}


@pytest.mark.parametrize("compression", ["none", "snappy", "zstd", "lz4", "gzip"])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
@pytest.mark.parametrize("mode", sorted(ARROW_MODES))
def test_pyarrow_file_read_by_swift(tmp_path, compression, page_version, mode):
    rows = 3000
    table = pa.table(arrow_table(rows, seed=len(mode) + len(compression)))
    path = str(tmp_path / "arrow.parquet")
    row_group = {"none": 1000, "snappy": 3000, "zstd": 777, "lz4": 64, "gzip": 1500}[compression]
    pq.write_table(table, path, compression=compression, data_page_version=page_version, row_group_size=row_group,
                   data_page_size=4096, **ARROW_MODES[mode])
    p = run_tool("read", path)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["rows"] == rows
    assert len(got["rowGroups"]) == pq.ParquetFile(path).metadata.num_row_groups
    by_name = {c["name"]: c for c in got["columns"]}
    for name in table.column_names:
        col = by_name[name]
        assert "error" not in col, col.get("error")
        assert col["values"] == expected_hex(table.column(name)), name
    assert by_name["t"]["logical"] == "TIMESTAMP(MILLIS,true)"
    assert by_name["s"]["logical"] == "STRING"


def test_unsupported_encoding_and_codec_are_named(tmp_path):
    table = pa.table({"name": pa.array(["a", "bb", "ccc"] * 10), "n": pa.array(range(30), pa.int64())})
    path = str(tmp_path / "dba.parquet")
    pq.write_table(table, path, use_dictionary=False, column_encoding={"name": "DELTA_BYTE_ARRAY"})
    got = json.loads(run_tool("read", path).stdout)
    col = next(c for c in got["columns"] if c["name"] == "name")
    assert "DELTA_BYTE_ARRAY" in col["error"] and "column 'name'" in col["error"] and "row group 0" in col["error"]
    assert "byte offset" in col["error"] and path in col["error"]
    other = next(c for c in got["columns"] if c["name"] == "n")
    assert other["values"] == [format(v, "016x") for v in range(30)]

    br = str(tmp_path / "brotli.parquet")
    pq.write_table(table, br, compression="brotli")
    got = json.loads(run_tool("read", br).stdout)
    assert all("BROTLI" in c["error"] for c in got["columns"])

    bad = tmp_path / "truncated.parquet"
    bad.write_bytes(open(path, "rb").read()[:-30])
    p = run_tool("read", str(bad))
    assert p.returncode == 1 and str(bad) in p.stderr and "PAR1" in p.stderr


# MARK: (c) neptune-exporter's layout

NEPTUNE_SCHEMA = pa.schema([
    ("project_id", pa.string()),
    ("run_id", pa.string()),
    ("attribute_path", pa.string()),
    ("attribute_type", pa.string()),
    ("step", pa.decimal128(18, 6)),
    ("timestamp", pa.timestamp("ms", tz="UTC")),
    ("int_value", pa.int64()),
    ("float_value", pa.float64()),
    ("string_value", pa.string()),
    ("bool_value", pa.bool_()),
    ("datetime_value", pa.timestamp("ms", tz="UTC")),
    ("string_set_value", pa.list_(pa.string())),
    ("file_value", pa.struct([("path", pa.string())])),
    ("histogram_value", pa.struct([("type", pa.string()), ("edges", pa.list_(pa.float64())),
                                   ("values", pa.list_(pa.float64()))])),
])


def test_neptune_exporter_file(tmp_path):
    rows = []
    dbl = awkward_double_bits(500, 99)
    for i in range(500):
        kind = ["float_series", "int", "string", "bool", "string_set", "file"][i % 6]
        rows.append({
            "project_id": "org/proj", "run_id": f"RUN-{i % 4}", "attribute_path": f"metrics/m{i % 5}",
            "attribute_type": kind,
            "step": Decimal(i) / Decimal(8) if kind == "float_series" else None,
            "timestamp": 1_767_225_600_000 + i,
            "int_value": -i * 1_000_000_007 if kind == "int" else None,
            "float_value": struct.unpack("<d", struct.pack("<Q", dbl[i]))[0] if kind == "float_series" else None,
            "string_value": f"v{i} ✓" if kind == "string" else None,
            "bool_value": (i % 2 == 0) if kind == "bool" else None,
            "datetime_value": None,
            "string_set_value": ["a", "b"] if kind == "string_set" else None,
            "file_value": {"path": f"files/{i}"} if kind == "file" else None,
            "histogram_value": None,
        })
    table = pa.Table.from_pylist(rows, schema=NEPTUNE_SCHEMA)
    path = str(tmp_path / "part_0.parquet")
    pq.write_table(table, path, compression="snappy")
    got = json.loads(run_tool("read", path).stdout)
    by_name = {c["name"]: c for c in got["columns"]}
    for name in ["project_id", "run_id", "attribute_path", "attribute_type", "timestamp", "int_value",
                 "float_value", "string_value", "bool_value", "datetime_value"]:
        assert "error" not in by_name[name], by_name[name]
        assert by_name[name]["values"] == expected_hex(table.column(name)), name
    # step: DECIMAL(18,6) as big-endian two's complement of the unscaled value.
    assert by_name["step"]["logical"] == "DECIMAL(18,6)"
    steps = [None if v is None else int.from_bytes(bytes.fromhex(v), "big", signed=True)
             for v in by_name["step"]["values"]]
    assert steps == [None if r["step"] is None else int(r["step"] * 1_000_000) for r in rows]
    # A leaf of a plain struct reads; list leaves are refused with an error naming the feature.
    assert by_name["file_value.path"]["values"] == [None if r["file_value"] is None else r["file_value"]["path"].encode().hex()
                                                    for r in rows]
    err = by_name["string_set_value.list.element"]["error"]
    assert "LIST" in err and "string_set_value.list.element" in err
