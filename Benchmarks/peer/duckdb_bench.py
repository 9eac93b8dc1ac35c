#!/usr/bin/env python3
"""DuckDB peer benchmark for the standard workload of shared/bench/QUERIES.md.

    python3 Benchmarks/peer/duckdb_bench.py --long DIR --sweep DIR --out duckdb-results.json \
        [--answers duckdb-answers.json] [--repeat 5] [--warm-repeat 10] [--workdir DIR] [--keep]

Ingests each workload (files written by shared/bench/workload.py) into a fresh on-disk DuckDB
file with DuckDB's bulk path (one CREATE TABLE AS over an Arrow table built from the numpy
arrays), checkpoints and closes it, and then runs Q1-Q7 as SQL against the closed file, warm
(one connection, median of repeats) and cold (a fresh process per query, timed from outside).
See README.md beside this file for what every figure means.

Internal mode, used for the cold queries (one fresh interpreter per measurement):

    python3 duckdb_bench.py --cold-query Q3 --db long.duckdb
"""
import time

_T_START = time.perf_counter()  # before any heavy import: lets the cold child report import cost

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import duckdb  # noqa: E402

_T_IMPORTED = time.perf_counter()

LONG_QUERIES = ("Q1", "Q2", "Q3", "Q4")
SWEEP_QUERIES = ("Q5", "Q6", "Q7")
RUN = "run-0000"
METRIC = "train/loss"

# --------------------------------------------------------------------------------------------
# SQL. Points table: (run VARCHAR, metric VARCHAR, step BIGINT, value DOUBLE, time BIGINT ms),
# in the order of the workload's series (run by run, series by series, step ascending).
# Runs table: name VARCHAR plus one typed column per param (lr DOUBLE, dropout DOUBLE,
# batch_size BIGINT, model VARCHAR, optimizer VARCHAR, seed BIGINT).
# --------------------------------------------------------------------------------------------

SQL_Q1 = f"""
SELECT step, value FROM points
WHERE run = '{RUN}' AND metric = '{METRIC}'
ORDER BY step"""

SQL_Q2 = f"""
SELECT step, value FROM points
WHERE run = '{RUN}' AND metric = '{METRIC}' AND step >= 1000000 AND step < 1010000
ORDER BY step"""


def sql_curve(lo, hi, buckets):
    # Exact integer bucket: floor((step - lo) * B / (hi - lo)). step >= lo, so (step - lo) * B
    # is non-negative and BIGINT `//` (truncating division) equals floor. Max operand here is
    # 2e6 * 1000 = 2e9, far from BIGINT overflow.
    # first/last: value at the smallest/largest step of the bucket (steps are unique per series).
    return f"""
SELECT (step - {lo}) * {buckets} // {hi - lo} AS bucket,
       count(*) AS count, min(value) AS min, max(value) AS max, avg(value) AS mean,
       arg_min(value, step) AS first, arg_max(value, step) AS last
FROM points
WHERE run = '{RUN}' AND metric = '{METRIC}' AND step >= {lo} AND step < {hi}
GROUP BY bucket
ORDER BY bucket"""


SQL_Q3 = sql_curve(0, 2_000_000, 1000)
SQL_Q4 = sql_curve(500_000, 600_000, 1000)

# Min of val/loss per selected run and the first (smallest) step reaching it: arg_min over the
# (value, step) struct key breaks value ties by step. Top 10 ascending, ties by run name.
# 0.1 is cast to DOUBLE explicitly (a bare 0.1 literal is DECIMAL(2,1) in DuckDB).
SQL_Q5 = """
SELECT p.run AS run, min(p.value) AS min, arg_min(p.step, (p.value, p.step)) AS step
FROM points p JOIN runs r ON p.run = r.name
WHERE r.lr < CAST(1e-3 AS DOUBLE) AND r.dropout >= CAST(0.1 AS DOUBLE) AND p.metric = 'val/loss'
GROUP BY p.run
ORDER BY min, run
LIMIT 10"""

SQL_Q6 = """
SELECT r.model AS model, p.step // 100 AS bucket,
       count(*) AS count, avg(p.value) AS mean, stddev_pop(p.value) AS std,
       min(p.value) AS min, max(p.value) AS max
FROM points p JOIN runs r ON p.run = r.name
WHERE p.metric = 'train/loss'
GROUP BY model, bucket
ORDER BY model, bucket"""

SQL_Q7 = """
SELECT run, metric, arg_max(value, step) AS value
FROM points
GROUP BY run, metric
ORDER BY run, metric"""


def q1(con):
    r = con.execute(SQL_Q1).fetchnumpy()
    st, va = r["step"], r["value"]
    return {"count": int(st.size), "sum": float(va.sum()),
            "first_step": int(st[0]), "last_step": int(st[-1])}


def q2(con):
    r = con.execute(SQL_Q2).fetchnumpy()
    return {"count": int(r["step"].size), "sum": float(r["value"].sum())}


def _curve(con, sql):
    return [{"bucket": int(b), "count": int(c), "min": float(mn), "max": float(mx),
             "mean": float(me), "first": float(f), "last": float(la)}
            for b, c, mn, mx, me, f, la in con.execute(sql).fetchall()]


def q3(con):
    return _curve(con, SQL_Q3)


def q4(con):
    return _curve(con, SQL_Q4)


def q5(con):
    return [{"run": r, "min": float(v), "step": int(s)} for r, v, s in con.execute(SQL_Q5).fetchall()]


def q6(con):
    band = {}
    for g, b, c, me, sd, mn, mx in con.execute(SQL_Q6).fetchall():
        band.setdefault(g, []).append({"bucket": int(b), "count": int(c), "mean": float(me),
                                       "std": float(sd), "min": float(mn), "max": float(mx)})
    return band


def q7(con):
    last = {}
    for run, metric, v in con.execute(SQL_Q7).fetchall():
        last.setdefault(run, {})[metric] = float(v)
    return last


QUERIES = {"Q1": (q1, "Q1_history"), "Q2": (q2, "Q2_window"), "Q3": (q3, "Q3_curve"),
           "Q4": (q4, "Q4_zoom"), "Q5": (q5, "Q5_best"), "Q6": (q6, "Q6_band"), "Q7": (q7, "Q7_last")}
SQL = {"Q1": SQL_Q1, "Q2": SQL_Q2, "Q3": SQL_Q3, "Q4": SQL_Q4, "Q5": SQL_Q5, "Q6": SQL_Q6, "Q7": SQL_Q7}


# --------------------------------------------------------------------------------------------
# Cold child: a fresh interpreter that imports duckdb, opens the closed file, runs one query.
# --------------------------------------------------------------------------------------------

def cold_child(query, db, threads):
    t0 = time.perf_counter()
    con = duckdb.connect(db, read_only=True)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    t1 = time.perf_counter()
    answer = QUERIES[query][0](con) if query != "open" else None
    t2 = time.perf_counter()
    con.close()
    json.dump({"vmhwm_kib": vmhwm_kib(), "import_ms": (_T_IMPORTED - _T_START) * 1e3, "open_ms": (t1 - t0) * 1e3,
               "query_ms": (t2 - t1) * 1e3, "inside_ms": (t2 - t0) * 1e3,
               "answer": answer}, sys.stdout)


def vmhwm_kib():
    """Peak resident set of this process image (Linux VmHWM). Unlike ru_maxrss it is not
    inherited from the parent across fork+exec (Linux carries the pre-exec peak into
    ru_maxrss, so a child spawned by a 2 GB parent reports >= 2 GB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def run_cold(query, db, threads):
    """Spawn a fresh process for one query; return (wall ms from outside, child's report)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--cold-query", query, "--db", db,
           "--threads", str(threads)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status = os.waitpid(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1e3
    p.stdout.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"cold {query} failed with {p.returncode}")
    return wall, json.loads(out)


# --------------------------------------------------------------------------------------------
# Ingest
# --------------------------------------------------------------------------------------------

def read_workload(d):
    """Read manifest and every series file into numpy arrays (like reference.py does)."""
    import numpy as np
    m = json.load(open(os.path.join(d, "manifest.json")))
    series = []
    for ri, r in enumerate(m["runs"]):
        for s in r["series"]:
            n = s["count"]
            raw = np.fromfile(os.path.join(d, s["file"]), dtype=np.uint8)
            series.append((ri, s["metric"], raw[:8 * n].view("<i8"), raw[8 * n:16 * n].view("<f8"),
                           raw[16 * n:24 * n].view("<i8")))
    return m, series


def _param_type(values):
    import pyarrow as pa
    if all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def build_arrow(m, series):
    """numpy arrays -> Arrow tables. run/metric are dictionary-encoded (int32 codes), so no
    per-row Python strings are made; DuckDB reads them as VARCHAR."""
    import numpy as np
    import pyarrow as pa
    names = [r["name"] for r in m["runs"]]
    metrics = sorted({s[1] for s in series})
    mcode = {k: i for i, k in enumerate(metrics)}
    counts = np.array([s[2].size for s in series], dtype=np.int64)
    run_codes = np.repeat(np.array([s[0] for s in series], dtype=np.int32), counts)
    metric_codes = np.repeat(np.array([mcode[s[1]] for s in series], dtype=np.int32), counts)
    points = pa.table({
        "run": pa.DictionaryArray.from_arrays(pa.array(run_codes), pa.array(names)),
        "metric": pa.DictionaryArray.from_arrays(pa.array(metric_codes), pa.array(metrics)),
        "step": pa.array(np.concatenate([s[2] for s in series])),
        "value": pa.array(np.concatenate([s[3] for s in series])),
        "time": pa.array(np.concatenate([s[4] for s in series])),
    })
    keys = []
    for r in m["runs"]:
        for k in r["params"]:
            if k not in keys:
                keys.append(k)
    cols = {"name": pa.array(names, pa.string())}
    for k in keys:
        vals = [r["params"].get(k) for r in m["runs"]]
        cols[k] = pa.array(vals, _param_type([v for v in vals if v is not None]))
    return points, pa.table(cols)


def load_duckdb(db, points, runs, threads):
    con = duckdb.connect(db)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("points_src", points)
    con.register("runs_src", runs)
    con.execute("CREATE TABLE runs AS SELECT * FROM runs_src")
    con.execute("CREATE TABLE points AS SELECT * FROM points_src")
    con.unregister("points_src")
    con.unregister("runs_src")
    con.execute("CHECKPOINT")
    con.close()


def db_bytes(db):
    return sum(os.path.getsize(p) for p in (db, db + ".wal") if os.path.exists(p))


def ingest(d, db, threads):
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    t0 = time.perf_counter()
    m, series = read_workload(d)
    t1 = time.perf_counter()
    points, runs = build_arrow(m, series)
    t2 = time.perf_counter()
    load_duckdb(db, points, runs, threads)
    t3 = time.perf_counter()
    n = points.num_rows
    assert n == m["points"], (n, m["points"])
    return {"points": n, "read_s": t1 - t0, "build_s": t2 - t1, "load_s": t3 - t2, "total_s": t3 - t0,
            "bytes": db_bytes(db)}


def stream_ingest(m, series, steps, db):
    """I1 the way a training loop logs, for context beside the bulk figure: for each of the first
    `steps` steps one INSERT of that step's points (5 per-step metrics, plus val/* every 100th
    step), inside one explicit transaction (faster than autocommit), then COMMIT, CHECKPOINT,
    close. Values are turned into Python lists before the clock starts."""
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    run = m["runs"][0]["name"]
    # dense series (one point per step) vs. sparse ones (val/*, every 100th step)
    every = [(s[1], s[3][:steps].tolist()) for s in series if s[0] == 0 and s[2].size == series[0][2].size]
    sparse = [(s[1], s[2], s[3]) for s in series if s[0] == 0 and s[2].size != series[0][2].size]
    sparse = [(k, dict(zip(st[st < steps].tolist(), va[st < steps].tolist()))) for k, st, va in sparse]
    times = series[0][4][:steps].tolist()
    row = "(?, ?, ?, ?, ?)"
    t0 = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("CREATE TABLE points (run VARCHAR, metric VARCHAR, step BIGINT, value DOUBLE, time BIGINT)")
    con.execute("BEGIN")
    n = 0
    stmts = {}
    for i in range(steps):
        args = []
        for k, v in every:
            args += (run, k, i, v[i], times[i])
        for k, d in sparse:
            if i in d:
                args += (run, k, i, d[i], times[i])
        rows = len(args) // 5
        sql = stmts.get(rows) or stmts.setdefault(rows, "INSERT INTO points VALUES " + ", ".join([row] * rows))
        con.execute(sql, args)
        n += rows
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    con.close()
    return n, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# Answer comparison (same tolerance rule as reference.py: sum/mean/std 1e-9 relative)
# --------------------------------------------------------------------------------------------

def same(x, y, key=""):
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k], k) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(p, q, key) for p, q in zip(x, y))
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        x, y = float(x), float(y)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        if key in ("sum", "mean", "std"):
            return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y))
        return x == y
    return x == y


def median(xs):
    return statistics.median(xs)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", help="workload dir of preset long (Q1-Q4, I1)")
    ap.add_argument("--sweep", help="workload dir of preset sweep (Q5-Q7, I2)")
    ap.add_argument("--out", help="results JSON")
    ap.add_argument("--answers", help="write Q1..Q7 answers in reference.py's shape")
    ap.add_argument("--repeat", type=int, default=5, help="ingest repeats and cold-query repeats (median)")
    ap.add_argument("--warm-repeat", type=int, default=10, help="warm repeats per query (median)")
    ap.add_argument("--stream-steps", type=int, default=10_000,
                    help="steps of `long` for the per-step INSERT figure (0 = skip)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = DuckDB default)")
    ap.add_argument("--workdir", help="where the .duckdb files go (default: a fresh temp dir, removed)")
    ap.add_argument("--keep", action="store_true", help="keep the .duckdb files")
    ap.add_argument("--ingest-only", action="store_true",
                    help="only the bulk loads (I1/I2), no per-step inserts or queries: what strata-bench --duckdb runs"
                         " between its own ingests")
    ap.add_argument("--cold-query", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.cold_query:
        cold_child(a.cold_query, a.db, a.threads)
        return
    if not (a.long or a.sweep) or not a.out:
        ap.error("need --out and at least one of --long / --sweep")

    import numpy
    import pyarrow
    workdir = a.workdir or tempfile.mkdtemp(prefix="duckdb-peer-")
    os.makedirs(workdir, exist_ok=True)
    res = {
        "system": "duckdb",
        "duckdb_version": duckdb.__version__,
        "python": platform.python_version(), "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.platform()}",
        "repeat": a.repeat, "warm_repeat": a.warm_repeat,
        "nice": os.nice(0),
    }
    samples = {}
    answers = {}
    try:
        sets = []
        if a.long:
            sets.append(("I1", "long", a.long, LONG_QUERIES))
        if a.sweep:
            sets.append(("I2", "sweep", a.sweep, SWEEP_QUERIES))
        for ing, name, d, queries in sets:
            db = os.path.join(workdir, f"{name}.duckdb")
            runs = []
            for i in range(a.repeat):
                r = ingest(d, db, a.threads)
                runs.append(r)
                log(f"{ing} {name} #{i + 1}: read {r['read_s']:.3f}s build {r['build_s']:.3f}s "
                    f"load+checkpoint {r['load_s']:.3f}s total {r['total_s']:.3f}s, {r['bytes']} bytes")
            n = runs[0]["points"]
            med = {k: median([r[k] for r in runs]) for k in ("read_s", "build_s", "load_s", "total_s")}
            med["from_arrays_s"] = median([r["build_s"] + r["load_s"] for r in runs])
            res[f"{ing}_points"] = n
            res[f"{ing}_points_per_s"] = n / med["total_s"]
            res[f"{ing}_from_arrays_points_per_s"] = n / med["from_arrays_s"]
            res[f"{ing}_load_points_per_s"] = n / med["load_s"]
            res[f"{ing}_median_s"] = med
            res[f"db_bytes_{name}"] = runs[-1]["bytes"]
            res[f"bytes_per_point_{name}"] = runs[-1]["bytes"] / n
            samples[ing] = runs

            if a.ingest_only:
                continue
            if name == "long" and a.stream_steps > 0:
                m, series = read_workload(d)
                sdb = os.path.join(workdir, "stream.duckdb")
                rates = []
                for i in range(a.repeat):
                    n_s, dt = stream_ingest(m, series, a.stream_steps, sdb)
                    rates.append(n_s / dt)
                    log(f"I1 per-step INSERT #{i + 1}: {n_s} points in {dt:.3f}s = {n_s / dt:,.0f} points/s")
                del m, series
                for p in (sdb, sdb + ".wal"):
                    if os.path.exists(p):
                        os.remove(p)
                res["I1_per_step_insert_points_per_s"] = median(rates)
                res["I1_per_step_insert_steps"] = a.stream_steps
                res["I1_per_step_insert_points"] = n_s
                samples["I1_per_step_insert_points_per_s"] = rates

            # Warm: one read-only connection; first run is the warm-up and gives the answer.
            con = duckdb.connect(db, read_only=True)
            if a.threads:
                con.execute(f"SET threads = {int(a.threads)}")
            if "duckdb_threads" not in res:
                res["duckdb_threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
            for q in queries:
                fn, key = QUERIES[q]
                answers[key] = fn(con)
                ts = []
                for _ in range(a.warm_repeat):
                    t0 = time.perf_counter()
                    fn(con)
                    ts.append((time.perf_counter() - t0) * 1e3)
                res[f"{q}_warm_ms"] = median(ts)
                samples[f"{q}_warm_ms"] = ts
                log(f"{q} warm {res[f'{q}_warm_ms']:.2f} ms")
            con.close()

            # Cold: a fresh interpreter per measurement (OS page cache stays warm).
            # Baseline first: a child that imports duckdb, opens and closes the file, no query.
            walls, inside, rss = [], [], []
            for _ in range(a.repeat):
                wall, rep = run_cold("open", db, a.threads)
                walls.append(wall)
                inside.append(rep["inside_ms"])
                rss.append(rep["vmhwm_kib"] / 1024)
            res[f"open_only_{name}_cold_ms"] = median(walls)
            res[f"open_only_{name}_cold_inside_ms"] = median(inside)
            res[f"open_only_{name}_cold_peak_rss_mib"] = median(rss)
            log(f"open only ({name}) cold {median(walls):.1f} ms (inside {median(inside):.1f} ms), "
                f"peak RSS {median(rss):.1f} MiB")
            for q in queries:
                walls, inside, opens, qms, imps, rss = [], [], [], [], [], []
                for _ in range(a.repeat):
                    wall, rep = run_cold(q, db, a.threads)
                    if not same(rep["answer"], answers[QUERIES[q][1]]):
                        raise RuntimeError(f"cold {q} answer differs from the warm answer")
                    walls.append(wall)
                    inside.append(rep["inside_ms"])
                    opens.append(rep["open_ms"])
                    qms.append(rep["query_ms"])
                    imps.append(rep["import_ms"])
                    rss.append(rep["vmhwm_kib"] / 1024)
                res[f"{q}_cold_ms"] = median(walls)
                res[f"{q}_cold_inside_ms"] = median(inside)
                res[f"{q}_cold_open_ms"] = median(opens)
                res[f"{q}_cold_query_ms"] = median(qms)
                res[f"{q}_cold_import_ms"] = median(imps)
                res[f"{q}_cold_peak_rss_mib"] = median(rss)
                samples[f"{q}_cold"] = {"wall_ms": walls, "inside_ms": inside, "peak_rss_mib": rss}
                log(f"{q} cold {res[f'{q}_cold_ms']:.1f} ms (inside open+query {res[f'{q}_cold_inside_ms']:.1f} ms,"
                    f" import duckdb {res[f'{q}_cold_import_ms']:.1f} ms), peak RSS {res[f'{q}_cold_peak_rss_mib']:.1f} MiB")
    finally:
        if not a.keep and not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    # Baseline for reading the cold figures: the interpreter's start alone.
    ts = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        ts.append((time.perf_counter() - t0) * 1e3)
    res["python_startup_ms"] = median(ts)
    res["samples"] = samples
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    if a.answers:
        with open(a.answers, "w") as f:
            json.dump(answers, f, indent=1)
    log(f"wrote {a.out}" + (f" and {a.answers}" if a.answers else ""))


if __name__ == "__main__":
    main()
