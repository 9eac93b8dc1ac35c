#!/usr/bin/env python3
"""Parquet export and import of Strata beside DuckDB's own Parquet writer, on the `long` and
`sweep` workloads of ../shared/bench (workload.py writes them; see QUERIES.md).

    python3 Benchmarks/parquet_vs_duckdb.py --long /tmp/wl/long --sweep /tmp/wl/sweep \
        [--strata .build/release/strata] [--work DIR] [--codecs] [--answers /tmp/wl/answers.json]

For each workload:
  1. the workload's series are written as one long-form Parquet file (pyarrow, uncompressed) with a
     runs table holding the typed params: the input;
  2. `strata import parquet` reads it into a fresh store (timed: import points/s);
  3. `strata export --format parquet --out DIR` writes the dataset (timed: export points/s, and
     bytes/point of the files);
  4. DuckDB, holding the same rows in a table, runs
     `COPY (… ORDER BY run, metric, step) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)`
     (timed the same way: points/s and bytes/point);
  5. Strata's export is imported back into another fresh store (timed: import points/s), and
     every point of that store is checked against the workload;
  6. on `sweep`, Q5 of QUERIES.md is answered by DuckDB over Strata's export and compared with
     reference.py's answer (--answers FILE, else computed by reference.py from --long/--sweep).
--codecs also exports with LZ4_RAW and prints both sizes (the measurement behind the default codec).

Timings are wall-clock times of whole processes (store open and close included) on one run; run on
an idle machine. Data never goes into the repository: --work defaults to a temporary directory.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def load_workload(d):
    """(manifest, [(run name, metric, steps, values, times)])"""
    m = json.load(open(os.path.join(d, "manifest.json")))
    series = []
    for r in m["runs"]:
        for s in r["series"]:
            n = s["count"]
            raw = np.fromfile(os.path.join(d, s["file"]), dtype=np.uint8)
            series.append((r["name"], s["metric"], raw[:8 * n].view("<i8"), raw[8 * n:16 * n].view("<f8"),
                           raw[16 * n:24 * n].view("<i8")))
    return m, series


def write_input(m, series, out):
    """The workload as Strata's long form: out/points/part-0.parquet and out/runs/part-0.parquet."""
    os.makedirs(os.path.join(out, "points"))
    os.makedirs(os.path.join(out, "runs"))
    counts = [len(s[2]) for s in series]
    names = pa.array(np.repeat(np.array([s[0] for s in series], dtype=object), counts), pa.string())
    metrics = pa.array(np.repeat(np.array([s[1] for s in series], dtype=object), counts), pa.string())
    table = pa.table({
        "run_id": names, "run_name": names,
        "project": pa.array(np.repeat(np.array(["bench"], dtype=object), sum(counts)), pa.string()),
        "metric": metrics,
        "step": pa.array(np.concatenate([s[2] for s in series])),
        "value": pa.array(np.concatenate([s[3] for s in series])),
        "time": pa.array(np.concatenate([s[4] for s in series])).cast(pa.timestamp("ms", tz="UTC")),
    })
    pq.write_table(table, os.path.join(out, "points", "part-0.parquet"), compression="none", row_group_size=1 << 20)
    runs = m["runs"]
    pq.write_table(pa.table({
        "id": [r["name"] for r in runs], "name": [r["name"] for r in runs], "project": ["bench"] * len(runs),
        "status": ["finished"] * len(runs),
        "created": pa.array([0] * len(runs), pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "params": [json.dumps(r["params"]) for r in runs],
    }), os.path.join(out, "runs", "part-0.parquet"))
    return table


def timed(cmd, env):
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return dt, r.stderr.strip()


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)


def check_store(strata, store, series, env):
    """Every point of `store` (exported again as Parquet) equals the workload's, bit for bit."""
    out = store + "-check"
    timed([strata, "export", "--store", store, "--format", "parquet", "--out", out], env)
    got = pq.read_table(os.path.join(out, "points"), partitioning=None,
                        columns=["run_name", "metric", "step", "value", "time"]).to_pandas()
    shutil.rmtree(out)
    got = got.sort_values(["run_name", "metric", "step"], kind="stable")
    want_steps = np.concatenate([s[2] for s in sorted(series, key=lambda s: (s[0], s[1]))])
    want_vals = np.concatenate([s[3] for s in sorted(series, key=lambda s: (s[0], s[1]))])
    ok = (len(got) == len(want_steps) and np.array_equal(got["step"].to_numpy(), want_steps)
          and np.array_equal(got["value"].to_numpy().view(np.uint64), want_vals.view(np.uint64)))
    return ok


Q5 = """
WITH r AS (
    SELECT id, name FROM read_parquet('{d}/runs/**/*.parquet')
    WHERE "param.lr" < 1e-3 AND "param.dropout" >= 0.1),
p AS (
    SELECT run_id, step, value FROM read_parquet('{d}/points/**/*.parquet')
    WHERE metric = 'val/loss' AND NOT isnan(value)),
best AS (SELECT run_id, min(value) AS min FROM p GROUP BY run_id)
SELECT r.name AS run, b.min, min(p.step) AS step
FROM best b JOIN r ON r.id = b.run_id JOIN p ON p.run_id = b.run_id AND p.value = b.min
GROUP BY r.name, b.min ORDER BY b.min, r.name LIMIT 10
"""


def reference_q5(args):
    if args.answers and os.path.exists(args.answers):
        return json.load(open(args.answers))["Q5_best"]
    sys.path.insert(0, os.path.join(REPO, "..", "shared", "bench"))
    sys.path.insert(0, "/work/shared/bench")
    import reference  # noqa: E402
    return reference.answers(args.long, args.sweep)["Q5_best"]


def bench(name, d, args, work, env):
    m, series = load_workload(d)
    points = sum(len(s[2]) for s in series)
    base = os.path.join(work, name)
    os.makedirs(base)
    inp = os.path.join(base, "input")
    table = write_input(m, series, inp)
    row = {"workload": name, "points": points}

    store = os.path.join(base, "store")
    dt, _ = timed([args.strata, "import", "parquet", "--store", store, inp], env)
    row["strata_import_input_pts_s"] = points / dt

    out = os.path.join(base, "strata-export")
    dt, _ = timed([args.strata, "export", "--store", store, "--format", "parquet", "--out", out], env)
    row["strata_export_pts_s"] = points / dt
    row["strata_bytes_per_point"] = dir_bytes(out) / points

    con = duckdb.connect()
    con.register("input_table", table)
    con.execute("CREATE TABLE points AS SELECT * FROM input_table")
    con.unregister("input_table")
    dpath = os.path.join(base, "duckdb.parquet")
    t = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM points ORDER BY project, run_id, metric, step) TO '{dpath}' "
                "(FORMAT parquet, COMPRESSION zstd)")
    dt = time.perf_counter() - t
    row["duckdb_export_pts_s"] = points / dt
    row["duckdb_bytes_per_point"] = os.path.getsize(dpath) / points
    con.close()

    store2 = os.path.join(base, "store-back")
    dt, _ = timed([args.strata, "import", "parquet", "--store", store2, out], env)
    row["strata_import_export_pts_s"] = points / dt
    row["round_trip_bit_exact"] = check_store(args.strata, store2, series, env)

    if args.codecs:
        lz = os.path.join(base, "strata-export-lz4")
        timed([args.strata, "export", "--store", store, "--format", "parquet", "--out", lz,
               "--compression", "lz4_raw"], env)
        row["lz4_raw_bytes_per_point"] = dir_bytes(lz) / points
        row["zstd_bytes_per_point"] = row["strata_bytes_per_point"]

    if name == "sweep":
        got = duckdb.sql(Q5.format(d=out)).fetchall()
        want = reference_q5(args)
        got = [{"run": r, "min": v, "step": s} for r, v, s in got]
        row["q5_correct"] = got == want
        if got != want:
            print(f"Q5 differs:\n  got  {got}\n  want {want}", file=sys.stderr)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long")
    ap.add_argument("--sweep")
    ap.add_argument("--strata", default=os.path.join(REPO, ".build", "release", "strata"))
    ap.add_argument("--work", help="working directory (default: a temporary one, removed afterwards)")
    ap.add_argument("--answers", help="reference.py's answers.json (Q5_best); default: computed")
    ap.add_argument("--codecs", action="store_true", help="also export with LZ4_RAW and compare sizes")
    args = ap.parse_args()
    if not (args.long or args.sweep):
        ap.error("give --long and/or --sweep")
    if args.sweep and not args.answers and not args.long:
        ap.error("Q5's reference answer needs --answers FILE or --long (reference.py computes it from both)")
    env = dict(os.environ, STRATA_NO_PROGRESS="1")
    work = args.work or tempfile.mkdtemp(prefix="strata-parquet-bench-")
    try:
        rows = []
        for name, d in (("long", args.long), ("sweep", args.sweep)):
            if d:
                rows.append(bench(name, d, args, work, env))
        for r in rows:
            print(f"{r['workload']}: {r['points']:,} points")
            print(f"  strata export  {r['strata_export_pts_s'] / 1e6:8.2f} M points/s  {r['strata_bytes_per_point']:6.3f} bytes/point")
            print(f"  duckdb COPY    {r['duckdb_export_pts_s'] / 1e6:8.2f} M points/s  {r['duckdb_bytes_per_point']:6.3f} bytes/point (zstd)")
            print(f"  strata import  {r['strata_import_export_pts_s'] / 1e6:8.2f} M points/s of its own export "
                  f"({r['strata_import_input_pts_s'] / 1e6:.2f} M points/s of the pyarrow input); "
                  f"round trip bit-exact: {r['round_trip_bit_exact']}")
            if "lz4_raw_bytes_per_point" in r:
                print(f"  codecs         zstd {r['zstd_bytes_per_point']:.3f} vs lz4_raw {r['lz4_raw_bytes_per_point']:.3f} bytes/point")
            if "q5_correct" in r:
                print(f"  Q5 via DuckDB over the export: {'correct' if r['q5_correct'] else 'WRONG'}")
        print(json.dumps(rows))
        if not all(r["round_trip_bit_exact"] and r.get("q5_correct", True) for r in rows):
            sys.exit(1)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
