#!/usr/bin/env python3
"""Cost of alert rules on server ingest (issue 15 target: at most 5 %).

Each trial starts `strata serve` (Tests/python/serve.py) on a fresh temporary store, logs one
priming batch (so the metrics exist), then either adds `--rules` alert rules on the ingested metrics
(one per metric round-robin over the conditions `above`, `below`, `nonfinite`, `no_improvement`,
chosen so that none fires: the cost measured is evaluation, not event writing) or none, waits for
the server's one-second rule reload (both modes wait the same), and times `--batches` POSTs of
batches to /api/ingest over one connection. `--format columnar` (the default, the server's fastest
form) sends one columnar record per metric with `--records` steps each; `--format lines` sends
`--records` JSON line records of `--metrics` metrics each. Modes alternate (none, rules, none,
rules, ...) for `--trials` trials each; it prints each trial's points/s and the medians and their
ratio.

    python3 clients/python/bench/alerts_overhead.py --bin .build/release/strata [--format lines]
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Tests", "python"))
import serve  # noqa: E402


def value(s, k):
    return 1.0 + ((s * 7 + k) % 97) / 97.0


def columnar(run, first_step, records, metrics):
    steps = list(range(first_step, first_step + records))
    recs = [{"run": run, "metric": "m%d" % k, "steps": steps, "values": [value(s, k) for s in steps]} for k in range(metrics)]
    return ("\n".join(json.dumps(r) for r in recs) + "\n").encode()


def batch(run, first_step, records, metrics):
    lines = []
    for s in range(first_step, first_step + records):
        lines.append(json.dumps({"run": run, "step": s, "metrics": {"m%d" % k: value(s, k) for k in range(metrics)}}))
    return ("\n".join(lines) + "\n").encode()


def post_json(url, path, obj):
    req = urllib.request.Request(url + path, data=json.dumps(obj).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def rules_for(n, metrics, run="bench"):
    """`n` rules on the run's metrics that never fire on values in [1, 2)."""
    conds = [{"above": 1e12}, {"below": -1e12}, {"nonfinite": True}, {"no_improvement": 1 << 40, "mode": "max"}]
    return [dict({"run": run, "metric": "m%d" % (i % metrics)}, **conds[i % len(conds)]) for i in range(n)]


def run_name(w):
    return "bench" if w == 0 else "bench%d" % w


def send_all(port, bodies):
    """Posts `bodies` in order over one connection; returns the points stored."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    points = 0
    for body in bodies:
        conn.request("POST", "/api/ingest", body=body, headers={"Content-Type": "application/x-ndjson"})
        r = conn.getresponse()
        reply = r.read()
        if r.status != 200:
            sys.exit("ingest failed: %d %s" % (r.status, reply[:300]))
        points += json.loads(reply)["points"]
    conn.close()
    return points


def trial(binary, with_rules, args, bodies):
    """One server, `len(bodies)` writers each on its own run and connection, at once."""
    d = tempfile.mkdtemp(prefix="strata-alerts-bench-")
    try:
        srv = serve.Serve(os.path.join(d, "store"), os.path.join(d, "serve.log"), binary)
        try:
            for w in range(len(bodies)):
                post_json_nd(srv, batch(run_name(w), -args.records, args.records, args.metrics))
                if with_rules:
                    for r in rules_for(args.rules, args.metrics, run_name(w)):
                        post_json(srv.url, "/api/alerts/rules", r)
            time.sleep(2.5)  # the server re-reads rules every second
            results = [0] * len(bodies)

            def writer(w):
                results[w] = send_all(srv.port, bodies[w])

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(len(bodies))]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
            if with_rules:
                with urllib.request.urlopen(srv.url + "/api/alerts/events", timeout=60) as r:
                    fired = len(json.loads(r.read())["events"])
                if fired:
                    sys.exit("a rule fired (%d events): the benchmark must measure evaluation only" % fired)
            return sum(results) / elapsed
        finally:
            srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def post_json_nd(srv, body):
    req = urllib.request.Request(srv.url + "/api/ingest", data=body, method="POST")
    req.add_header("Content-Type", "application/x-ndjson")
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=None, help="the strata binary (default $STRATA_BIN, else .build/debug/strata)")
    ap.add_argument("--trials", type=int, default=5, help="trials per mode (alternating)")
    ap.add_argument("--rules", type=int, default=12)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--format", choices=["columnar", "lines"], default="columnar")
    ap.add_argument("--records", type=int, default=None,
                    help="steps per batch (default 20000 columnar: 200,000-point batches; 1000 lines)")
    ap.add_argument("--batches", type=int, default=40, help="batches per writer")
    ap.add_argument("--writers", type=int, default=1,
                    help="concurrent writers, each on its own run and connection (rules: --rules per run)")
    args = ap.parse_args()
    binary = args.bin or serve.binary()
    if args.records is None:
        args.records = 20000 if args.format == "columnar" else 1000
    make = columnar if args.format == "columnar" else batch
    bodies = [[make(run_name(w), i * args.records, args.records, args.metrics) for i in range(args.batches)]
              for w in range(args.writers)]
    rates = {False: [], True: []}
    for i in range(args.trials):
        for mode in (False, True):
            r = trial(binary, mode, args, bodies)
            rates[mode].append(r)
            print("trial %d %-8s %12.0f points/s" % (i + 1, "rules" if mode else "no-rules", r), flush=True)
    a, b = statistics.median(rates[False]), statistics.median(rates[True])
    print("%s, %d writer(s), %d points per batch: median no rules: %.0f points/s; with %d rules: %.0f points/s; ratio %.3f (%+.1f %%)" % (
        args.format, args.writers, args.records * args.metrics, a, args.rules, b, b / a, (b / a - 1) * 100))


if __name__ == "__main__":
    main()
