#!/usr/bin/env python3
"""Points per second through MLflow's `MlflowClient.log_batch`, against `strata serve` and against a
real `mlflow server` with a SQLite backend, with the same client code (docs/MLFLOW.md, results in
docs/BENCHMARKS.md).

    PY=~/.cache/strata-venv-*/bin/python          # has mlflow-skinny (requirements-test.txt)
    $PY Benchmarks/mlflow_log_batch.py --strata .build/release/strata \
        --mlflow-python /path/to/venv-with-full-mlflow/bin/python

For each server: a fresh store (a temporary directory; `sqlite:///DIR/mlflow.db` for MLflow), one
server process on a free loopback port, then `--runs` runs one after another, each logging
`--steps` steps of `--metrics` metrics (points = runs × steps × metrics) with `log_batch` in
calls of `--batch` metrics (the client splits a call into requests of at most 1,000, MLflow's
limit); the clock runs over the `log_batch` calls only (building the Metric objects is not
timed). Each run's history of one metric is then read back with `get_metric_history` and checked
(count and values), and that read is timed too. `--repeat` runs everything again and keeps the
best. The table goes to stdout, `--json FILE` writes the numbers.

`--only strata` or `--only mlflow` runs one side. The MLflow side needs a Python with the full
`mlflow` package (the server), given with `--mlflow-python` (default: this Python); mlflow-skinny
alone has no server. Run it on an idle machine: it measures the servers and the client together.
"""
import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from mlflow import MlflowClient
from mlflow.entities import Metric

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url, proc, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("%s exited with %s before answering %s" % (what, proc.returncode, url))
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("%s did not answer %s within %d s" % (what, url, timeout))


def start_strata(binary, workdir):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--store", os.path.join(workdir, "store"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "server.log"), "w"))
    url = "http://127.0.0.1:%d" % port
    wait_up(url + "/health", proc, "strata serve")
    return proc, url


def start_mlflow(python, workdir):
    port = free_port()
    db = "sqlite:///" + os.path.join(workdir, "mlflow.db")
    cmd = [python, "-m", "mlflow", "server", "--backend-store-uri", db, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1",
           "--artifacts-destination", os.path.join(workdir, "artifacts")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "server.log"), "w"),
                            start_new_session=True)
    url = "http://127.0.0.1:%d" % port
    wait_up(url + "/health", proc, "mlflow server")
    return proc, url


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
        except (ProcessLookupError, PermissionError):
            proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def workload(url, args, seed):
    """Logs the runs through `url`; returns (points, seconds logging, seconds reading back)."""
    os.environ["MLFLOW_TRACKING_URI"] = url
    client = MlflowClient(tracking_uri=url)
    exp = client.create_experiment("bench-%d-%d" % (seed, time.time_ns()))
    rng = random.Random(seed)
    names = ["m%02d" % k for k in range(args.metrics)]
    log_s = 0.0
    read_s = 0.0
    points = 0
    t0 = 1_760_000_000_000
    for r in range(args.runs):
        run = client.create_run(exp, run_name="r%d" % r)
        rid = run.info.run_id
        values = {n: [rng.random() for _ in range(args.steps)] for n in names}
        batch = []
        for step in range(args.steps):
            for n in names:
                batch.append(Metric(n, values[n][step], t0 + step, step))
        for i in range(0, len(batch), args.batch):
            part = batch[i:i + args.batch]
            start = time.perf_counter()
            client.log_batch(rid, metrics=part)
            log_s += time.perf_counter() - start
        points += len(batch)
        start = time.perf_counter()
        history = client.get_metric_history(rid, names[0])
        read_s += time.perf_counter() - start
        got = sorted((m.step, m.value) for m in history)
        want = list(enumerate(values[names[0]]))
        if got != want:
            raise SystemExit("%s: run %s: the history of %s read back differs from what was logged" % (url, rid, names[0]))
        client.set_terminated(rid)
    return points, log_s, read_s


def measure(side, args):
    best = None
    for rep in range(args.repeat):
        workdir = tempfile.mkdtemp(prefix="mlflow-bench-%s-" % side)
        try:
            proc, url = start_strata(args.strata, workdir) if side == "strata" else start_mlflow(args.mlflow_python, workdir)
            try:
                points, log_s, read_s = workload(url, args, seed=rep)
            finally:
                stop(proc)
        finally:
            if args.keep:
                print("%s: kept %s" % (side, workdir), file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        result = {"points": points, "log_seconds": log_s, "points_per_s": points / log_s,
                  "history_seconds": read_s, "history_points_per_s": args.runs * args.steps / read_s}
        print("%s, repeat %d: %d points in %.2f s: %.0f points/s; history read %.0f points/s"
              % (side, rep + 1, points, log_s, result["points_per_s"], result["history_points_per_s"]), file=sys.stderr)
        if best is None or result["points_per_s"] > best["points_per_s"]:
            best = result
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = next((p for p in (os.path.join(REPO, ".build", "release", "strata"), os.path.join(REPO, ".build", "debug", "strata"))
                        if os.access(p, os.X_OK)), None)
    ap.add_argument("--strata", default=os.environ.get("STRATA_BIN") or default_bin, help="the strata binary (default: .build/release, else debug)")
    ap.add_argument("--mlflow-python", default=sys.executable, help="a Python with the full mlflow package, for `mlflow server`")
    ap.add_argument("--only", choices=["strata", "mlflow"])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=25_000)
    ap.add_argument("--metrics", type=int, default=4)
    ap.add_argument("--batch", type=int, default=1000, help="metrics per log_batch call (MLflow's limit per request is 1,000)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the stores and server logs")
    args = ap.parse_args()
    sides = [args.only] if args.only else ["strata", "mlflow"]
    if "strata" in sides and not args.strata:
        raise SystemExit("no strata binary: build it (swift build -c release) or pass --strata")
    results = {"runs": args.runs, "steps": args.steps, "metrics": args.metrics, "batch": args.batch}
    for side in sides:
        results[side] = measure(side, args)
    print("| server | points | log_batch points/s | get_metric_history points/s |")
    print("| --- | --- | --- | --- |")
    for side in sides:
        r = results[side]
        label = "strata serve" if side == "strata" else "mlflow server (sqlite)"
        print("| %s | %d | %.0f | %.0f |" % (label, r["points"], r["points_per_s"], r["history_points_per_s"]))
    if len(sides) == 2:
        print("\nstrata / mlflow, log_batch: %.1f×" % (results["strata"]["points_per_s"] / results["mlflow"]["points_per_s"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
