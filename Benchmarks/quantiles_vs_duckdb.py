#!/usr/bin/env python3
"""Issue 16 benchmark: Strata's quantiles (chunk sketches) beside DuckDB's quantile_cont, in one run.

    python3 Benchmarks/quantiles_vs_duckdb.py --bench .build/release/strata-bench \
        --long /tmp/wl/long --sweep /tmp/wl/sweep [--repeat 3] [--out /tmp/q16.json]

1. Runs `strata-bench --quantiles LONG SWEEP` (ingest of long and sweep with and without
   sketches, sizes, then warm timings and answers of: p99 of train/grad_norm over the whole long
   run, its 1000-bucket curve with p99 per bucket, rank of the 500 sweep runs by p90).
2. Loads the same workload files into DuckDB (Benchmarks/peer/duckdb_bench.py's loader) and
   times the same three questions with quantile_cont (NaN left out, as Strata does).
3. Prints timings side by side and the relative error of Strata's answers against DuckDB's exact
   ones (bound: 1/101 + 2^-31 < 0.991 %, docs/QUERIES.md).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))
import duckdb  # noqa: E402
import duckdb_bench  # noqa: E402

METRIC = "train/grad_norm"


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def timed(con, sql, params, repeats):
    xs, rows = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        xs.append(time.perf_counter() - t0)
    return median(xs), rows


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="the strata-bench executable (release build)")
    ap.add_argument("--long", required=True)
    ap.add_argument("--sweep", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", help="write every figure here as JSON")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="q16-")
    strata_out = os.path.join(work, "strata.json")
    subprocess.run([a.bench, "--quantiles", a.long, a.sweep, "--out", strata_out, "--repeat", str(a.repeat),
                    "--scratch", os.path.join(work, "strata")], check=True)
    s = json.load(open(strata_out))

    warm = max(5, a.repeat * 3)
    dk = {}
    for name, d in (("long", a.long), ("sweep", a.sweep)):
        db = os.path.join(work, name + ".duckdb")
        info = duckdb_bench.ingest(d, db, 0)
        dk[name + "_ingest_s"] = info["total_s"]
        dk[name + "_bytes_per_point"] = info["bytes"] / info["points"]
    con = duckdb.connect(os.path.join(work, "long.duckdb"), read_only=True)
    t, rows = timed(con, "SELECT quantile_cont(value, 0.99) FROM points WHERE metric = ? AND NOT isnan(value)", [METRIC], warm)
    dk["q_p99_whole_s"], dk["p99_whole"] = t, rows[0][0]
    lo, hi = con.execute("SELECT min(step), max(step) FROM points WHERE metric = ?", [METRIC]).fetchone()
    sql = ("SELECT (step - ?) * 1000 // (? - ? + 1) AS b, quantile_cont(value, 0.99) FROM points "
           "WHERE metric = ? AND NOT isnan(value) GROUP BY b ORDER BY b")
    t, rows = timed(con, sql, [lo, hi, lo, METRIC], warm)
    dk["q_curve1000_p99_s"] = t
    duck_curve = {int(b): q for b, q in rows}
    con.close()
    con = duckdb.connect(os.path.join(work, "sweep.duckdb"), read_only=True)
    sql = ("SELECT run, quantile_cont(value, 0.9) AS q FROM points WHERE metric = ? AND NOT isnan(value) "
           "GROUP BY run ORDER BY q, run LIMIT 500")
    t, rows = timed(con, sql, [METRIC], warm)
    dk["q_rank_p90_s"] = t
    duck_rank = [(str(r), q) for r, q in rows]
    con.close()

    err_whole = rel(s["p99_whole_sketch"], dk["p99_whole"])
    err_exact = rel(s["p99_whole_exact"], dk["p99_whole"])
    err_curve = max(rel(r["p99"], duck_curve[r["bucket"]]) for r in s["curve1000_p99"])
    duck_p90 = dict(duck_rank)
    err_rank = max(rel(r["p90"], duck_p90[r["name"]]) for r in s["rank_p90"])
    same_order = sum(1 for x, y in zip(s["rank_p90"], duck_rank) if x["name"] == y[0])
    report = {"strata": s, "duckdb": dk, "errors": {
        "p99_whole_sketch_vs_duckdb": err_whole, "p99_whole_exact_vs_duckdb": err_exact,
        "curve1000_p99_max": err_curve, "rank_p90_max": err_rank, "rank_same_position": same_order}}
    if a.out:
        json.dump({k: v for k, v in report.items()}, open(a.out, "w"), indent=1, default=str)
    f = lambda x: f"{x * 1000:9.2f} ms"  # noqa: E731
    print(f"sizes: sketches {s['long_sketch_bytes_per_point']:.4f} B/pt on long, {s['sweep_sketch_bytes_per_point']:.4f} on sweep; "
          f"store {s['long_bytes_per_point_without']:.3f} -> {s['long_bytes_per_point_with']:.3f} B/pt (long), "
          f"{s['sweep_bytes_per_point_without']:.3f} -> {s['sweep_bytes_per_point_with']:.3f} (sweep); "
          f"DuckDB {dk['long_bytes_per_point']:.3f} / {dk['sweep_bytes_per_point']:.3f}")
    print(f"ingest with/without sketches: long {s['long_ingest_ratio']:.3f}x ({s['long_ingest_s_with']:.2f} s / {s['long_ingest_s_without']:.2f} s), "
          f"sweep {s['sweep_ingest_ratio']:.3f}x")
    print(f"p99 whole long run   Strata {f(s['q_p99_whole_sketch_s'])} (exact=true {f(s['q_p99_whole_exact_s'])})  DuckDB {f(dk['q_p99_whole_s'])}  rel. err {err_whole:.2e}")
    print(f"1000-bucket p99      Strata {f(s['q_curve1000_p99_s'])} (curve alone {f(s['q_curve1000_plain_s'])})  DuckDB {f(dk['q_curve1000_p99_s'])}  max rel. err {err_curve:.2e} "
          f"({s['curve1000_exact_buckets']} of {len(s['curve1000_p99'])} buckets exact)")
    print(f"rank by p90 (sweep)  Strata {f(s['q_rank_p90_s'])}  DuckDB {f(dk['q_rank_p90_s'])}  max rel. err {err_rank:.2e}, {same_order}/500 same position")


if __name__ == "__main__":
    main()
