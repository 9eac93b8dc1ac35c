#!/usr/bin/env python3
"""Bounded load generator for `strata serve` (loopback only; stops by itself).

Starts `strata serve` on a fresh temporary store and a free 127.0.0.1 port, preloads one run with
`--target-points` points of `loss` (the curve-query target), then for `--duration` seconds:

* `--writers` threads each POST the same pre-built batch of `--batch-points` points to
  /api/ingest over a persistent connection (run `load-<i>`; steps repeat from batch to batch,
  which the store allows), counting the points acknowledged;
* `--queriers` threads GET /api/curve of the target run (`--buckets` buckets, whole range) in a
  loop and record each latency.

Prints ingest points/s (acknowledged = in the write-ahead log), MB/s of request bodies, and
curve-query latency percentiles under load (and idle, measured before the load starts).

    python3 clients/python/bench/load.py --bin .build-server/release/strata --format columnar
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body_lines(run, n, metrics=4, first=0, seed=1):
    """Line records: one record per step with `metrics` metrics (the `strata ingest` form)."""
    names = ["train/loss", "lr", "grad_norm", "acc", "tokens_per_s", "val/loss", "mem", "throughput"][:metrics]
    out = []
    t0 = 1_760_000_000_000
    rnd = random.Random(seed)
    for s in range(first, first + n // metrics):
        vals = ",".join('"%s":%r' % (m, rnd.random()) for m in names)
        out.append('{"run":"%s","step":%d,"time":%d,"metrics":{%s}}' % (run, s, t0 + s * 100, vals))
    return ("\n".join(out) + "\n").encode()


def body_columnar(run, n, metrics=4, times=True, first=0, seed=1):
    """Columnar records (server extension): one record per metric with steps/values[/times] arrays."""
    names = ["train/loss", "lr", "grad_norm", "acc", "tokens_per_s", "val/loss", "mem", "throughput"][:metrics]
    per = n // metrics
    rnd = random.Random(seed)
    steps = ",".join(str(s) for s in range(first, first + per))
    ts = ",".join(str(1_760_000_000_000 + s * 100) for s in range(first, first + per))
    recs = []
    for m in names:
        # float32-origin values, as a training loop logs them
        vals = ",".join(repr(float("%.7g" % rnd.random())) for _ in range(per))
        rec = '{"run":"%s","metric":"%s","steps":[%s],"values":[%s]' % (run, m, steps, vals)
        rec += (',"times":[%s]}' % ts) if times else "}"
        recs.append(rec)
    return ("[" + ",".join(recs) + "]").encode()


class Conn:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Type", "application/x-ndjson")  # the server refuses writes without it
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 1:
                    raise


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("STRATA_BIN", "strata"))
    ap.add_argument("--format", choices=["lines", "columnar", "columnar-notimes"], default="columnar")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--queriers", type=int, default=1)
    ap.add_argument("--batch-points", type=int, default=200_000)
    ap.add_argument("--target-points", type=int, default=1_000_000)
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=4, help="different bodies per writer, sent in turn (steps advance, values differ)")
    ap.add_argument("--rate", type=float, default=0, help="pace all writers together to this many points/s (0: as fast as possible)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary store")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()
    if a.duration > 600:
        sys.exit("--duration is at most 600 s")

    tmp = tempfile.mkdtemp(prefix="strata-load-")
    store = os.path.join(tmp, "store")
    port = free_port()
    server = subprocess.Popen([a.bin, "serve", "--store", store, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                if Conn(port).request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                sys.exit("server did not start: %s" % server.stderr.read().decode())
            time.sleep(0.1)

        # Preload the curve target in columnar batches.
        c = Conn(port)
        chunk = 100_000
        for lo in range(0, a.target_points, chunk):
            n = min(chunk, a.target_points - lo)
            rnd = random.Random(lo)
            rec = '{"run":"target","metric":"loss","steps":[%s],"values":[%s],"times":[%s]}' % (
                ",".join(str(s) for s in range(lo, lo + n)),
                ",".join(repr(1.0 / (s + 1) + rnd.random() * 0.01) for s in range(lo, lo + n)),
                ",".join(str(1_760_000_000_000 + s * 10) for s in range(lo, lo + n)))
            st, data = c.request("POST", "/api/ingest", body=rec.encode())
            assert st == 200, data
        curve_path = "/api/curve?run=target&metric=loss&buckets=%d" % a.buckets
        idle = []
        for _ in range(200):
            t = time.perf_counter()
            st, data = c.request("GET", curve_path)
            idle.append((time.perf_counter() - t) * 1000)
            assert st == 200, data
        rows = len(json.loads(data)["rows"])

        make = {"lines": body_lines, "columnar": body_columnar,
                "columnar-notimes": lambda r, n, **k: body_columnar(r, n, times=False, **k)}[a.format]
        per_metric = a.batch_points // 4
        bodies = [[make("load-%d" % i, a.batch_points, first=j * per_metric, seed=i * 1000 + j) for j in range(a.distinct)]
                  for i in range(a.writers)]
        points_per_body = []
        for i, bs in enumerate(bodies):
            st, data = Conn(port).request("POST", "/api/ingest", body=bs[0])  # warm-up (creates the runs)
            assert st == 200, data[:500]
            points_per_body.append(json.loads(data)["points"])
        interval = a.writers * points_per_body[0] / a.rate if a.rate > 0 else 0

        stop = threading.Event()
        acked = [0] * a.writers
        sent_bytes = [0] * a.writers
        errors = []
        lat = [[] for _ in range(a.queriers)]

        def writer(i):
            conn = Conn(port)
            k = 0
            due = time.perf_counter() + interval * i / a.writers
            while not stop.is_set():
                if interval:
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    due += interval
                body = bodies[i][k % a.distinct]
                k += 1
                st, data = conn.request("POST", "/api/ingest", body=body)
                if st != 200:
                    errors.append((st, data[:300]))
                    return
                acked[i] += points_per_body[i]
                sent_bytes[i] += len(body)

        def querier(i):
            conn = Conn(port)
            while not stop.is_set():
                t = time.perf_counter()
                st, data = conn.request("GET", curve_path)
                lat[i].append((time.perf_counter() - t) * 1000)
                if st != 200:
                    errors.append((st, data[:300]))
                    return

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(a.writers)]
        threads += [threading.Thread(target=querier, args=(i,)) for i in range(a.queriers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(a.duration)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        all_lat = [x for l in lat for x in l]
        fig = {
            "format": a.format, "writers": a.writers, "batch_points": a.batch_points, "body_bytes": len(bodies[0][0]), "rate_target": a.rate,
            "duration_s": round(elapsed, 2), "points": sum(acked), "points_per_s": round(sum(acked) / elapsed),
            "request_mb_per_s": round(sum(sent_bytes) / elapsed / 1e6, 1),
            "bytes_per_point": round(len(bodies[0][0]) / points_per_body[0], 1),
            "curve_rows": rows, "curve_queries": len(all_lat),
            "curve_ms_idle_p50": round(pct(idle, 50), 3), "curve_ms_idle_p99": round(pct(idle, 99), 3),
            "curve_ms_p50": round(pct(all_lat, 50), 3), "curve_ms_p90": round(pct(all_lat, 90), 3),
            "curve_ms_p99": round(pct(all_lat, 99), 3), "curve_ms_max": round(max(all_lat) if all_lat else float("nan"), 3),
            "errors": len(errors),
        }
        for k, v in fig.items():
            print("%-20s %s" % (k, v))
        if errors:
            print("first error:", errors[0])
        if a.json:
            with open(a.json, "w") as f:
                json.dump(fig, f, indent=1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("store kept at", store)


if __name__ == "__main__":
    main()
