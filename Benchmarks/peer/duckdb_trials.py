#!/usr/bin/env python3
"""Peer for strata-bench --trials: the trials workload of shared/bench (QUERIES.md Q8-Q10) in DuckDB.

Loads every point into one table (run, metric, step, value, time) and the runs with their params
flattened with dots (lists and null as JSON text) into another, checkpoints, and reports ingest
points/s, bytes/point of the database file, Q8 and Q9 warm (median of 5) and Q10 (open + counts)
in a fresh process (median of 3).

    python3 Benchmarks/peer/duckdb_trials.py TRIALS_DIR /tmp/trials.duckdb
"""
import json, os, sys, time, struct, subprocess, tempfile, numpy as np, duckdb, pyarrow as pa
d = sys.argv[1]; db = sys.argv[2]
if len(sys.argv) > 3 and sys.argv[3] == "--q10":
    t = time.perf_counter(); con = duckdb.connect(db, read_only=True)
    r = con.execute("select (select count(*) from runs), (select count(distinct (run, metric)) from points), (select count(*) from points)").fetchone()
    print(json.dumps({"s": time.perf_counter() - t, "runs": r[0], "series": r[1], "points": r[2]})); sys.exit(0)
m = json.load(open(d + "/manifest.json"))
def flat(p, pre=""):
    out = {}
    for k, v in p.items():
        key = pre + k
        if isinstance(v, dict): out.update(flat(v, key + "."))
        elif isinstance(v, list) or v is None: out[key] = json.dumps(v)
        else: out[key] = v
    return out
runs, metrics, steps, values, times = [], [], [], [], []
rows = []
for r in m["runs"]:
    p = flat(r["params"]); rows.append((r["name"], p.get("optimizer.name"), p.get("lr"), json.dumps(p)))
    for s in r["series"]:
        n = s["count"]; a = np.fromfile(d + "/" + s["file"], dtype="<i8", count=3 * n)
        steps.append(a[:n]); values.append(a[n:2 * n].view("<f8")); times.append(a[2 * n:])
        runs.append(np.full(n, r["name"], dtype=object)); metrics.append(np.full(n, s["metric"], dtype=object))
tbl = pa.table({"run": np.concatenate(runs), "metric": np.concatenate(metrics), "step": np.concatenate(steps), "value": np.concatenate(values), "time": np.concatenate(times)})
rt = pa.table({"name": [x[0] for x in rows], "opt": [x[1] for x in rows], "lr": [x[2] for x in rows], "params": [x[3] for x in rows]})
if os.path.exists(db): os.remove(db)
t = time.perf_counter()
con = duckdb.connect(db)
con.execute("create table runs as select * from rt"); con.execute("create table points as select * from tbl"); con.execute("checkpoint"); con.close()
ingest = time.perf_counter() - t
size = os.path.getsize(db)
con = duckdb.connect(db, read_only=True)
q8 = """select p.run, min(p.value) filter (where not isnan(p.value)) as mn, arg_min(p.step, p.value) filter (where not isnan(p.value)) from points p join runs r on r.name = p.run
        where r.opt = 'adam' and r.lr < 1e-3 and p.metric = 'val/loss' group by p.run having mn is not null order by mn, p.run limit 10"""
q9 = "select run, metric, arg_max(value, step) from points group by run, metric"
def warm(sql, k=5):
    con.execute(sql).fetchall(); ts = []
    for _ in range(k):
        t = time.perf_counter(); con.execute(sql).fetchall(); ts.append(time.perf_counter() - t)
    return sorted(ts)[k // 2]
res = {"ingest_points_per_s": m["points"] / ingest, "bytes_per_point": size / m["points"], "Q8_warm_s": warm(q8), "Q9_warm_s": warm(q9)}
q10 = [json.loads(subprocess.check_output([sys.executable, __file__, d, db, "--q10"]))["s"] for _ in range(3)]
res["Q10_fresh_s"] = sorted(q10)[1]
print(json.dumps(res, indent=1))
