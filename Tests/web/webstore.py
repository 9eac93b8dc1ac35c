"""A live `strata serve` on a store with real training-like data for the web page's browser test:
a learning-rate × seed sweep, a run that diverges (to 289,614, then +Inf, −Inf and NaN), a run with
one series per rank (a context label), and a run still running (the test logs into it while the
page is open)."""
import json
import math
import os
import sys
import tempfile
import urllib.parse
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
T0 = 1_764_000_000_000  # ms, 2025-11-24

sys.path.insert(0, os.path.join(REPO, "Tests", "python"))
import serve  # noqa: E402  (the one way the Python tests start and stop `strata serve`)
from serve import binary  # noqa: E402,F401  (test_page.py asks it whether there is a binary)


class Server(serve.Serve):
    """`strata serve` on `store` (Tests/python/serve.py), with the requests the page test makes."""

    def __init__(self, store):
        super().__init__(store, store + ".log")

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=60) as r:
            return json.loads(r.read())

    def ingest(self, records):
        body = "\n".join(json.dumps(r, allow_nan=False) for r in records).encode() + b"\n"
        req = urllib.request.Request(self.url + "/api/ingest?sync=1", data=body, method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def curve(self, run, metric, x="step", buckets=None, frm=None, to=None, labels=None):
        q = {"run": run, "metric": metric, "x": x}
        if labels:
            q["labels"] = ",".join("%s=%s" % kv for kv in sorted(labels.items()))
        if buckets is not None:
            q["buckets"] = buckets
        if frm is not None:
            q["from"], q["to"] = frm, to
        return self.get("/api/curve?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote))


def value(v):
    """A double as the ingest API takes it (NaN and ±Infinity as strings)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def series(run, metric, steps, f, dt=100):
    return {"run": run, "metric": metric, "steps": list(steps), "values": [value(f(s)) for s in steps],
            "times": [T0 + s * dt for s in steps]}


def populate(server, runs_per_lr=2):
    recs = []
    n = 2000
    for lr in [3e-4, 1e-3, 3e-3]:
        for seed in range(runs_per_lr):
            name = "lr%g-s%d" % (lr, seed)
            recs.append({"run": name, "params": {"lr": lr, "seed": seed, "model": "base", "batch": 64},
                         "tags": ["sweep"], "meta": {"git.commit": "3f2a1c9", "host": "gpu-%d" % seed,
                                                     "command": "python train.py --lr %g --seed %d" % (lr, seed)}})
            k = lr * 3000
            noise = lambda s, seed=seed: 0.03 * math.sin(s * 0.37 + seed) + 0.02 * math.sin(s * 1.7 + 2 * seed)
            recs.append(series(name, "train/loss", range(n), lambda s, k=k, noise=noise: 2.3 * math.exp(-s * k / n) + 0.15 + noise(s)))
            recs.append(series(name, "val/loss", range(0, n, 100), lambda s, k=k: 2.3 * math.exp(-s * k / n) + 0.25))
            recs.append(series(name, "val/acc", range(0, n, 100), lambda s, k=k: 0.95 - 0.8 * math.exp(-s * k / n)))
            recs.append(series(name, "sys/gpu_util", range(0, n, 10), lambda s, seed=seed: 80 + 10 * math.sin(s / 50 + seed)))
            recs.append(series(name, "train/lr", range(0, n, 10), lambda s, lr=lr: lr * min(1, s / 200)))
            recs.append({"run": name, "status": "finished"})
    # Diverges: the loss grows to 289,614 at step 1209, then +Inf (1210), -Inf (1212) and NaN from 1215.
    name = "diverged"
    recs.append({"run": name, "params": {"lr": 0.1, "seed": 0, "model": "base", "batch": 64}, "tags": ["sweep", "bad"]})

    def dv(s):
        if s < 800:
            return 2.3 * math.exp(-s * 2 / n) + 0.15
        if s < 1210:
            return 1.0 * (289614 / 1.0) ** ((s - 800) / 409)
        if s == 1210 or s == 1211:
            return math.inf
        if s in (1212, 1213):
            return -math.inf
        if s == 1214:
            return 1e300
        return math.nan
    recs.append(series(name, "train/loss", range(1300), dv))
    recs.append(series(name, "val/loss", range(0, 1300, 100), lambda s: math.nan if s >= 1200 else dv(s)))
    recs.append({"run": name, "status": "failed"})
    # Data-parallel: one loss series per rank (context label), for grouping by a label.
    recs.append({"run": "ddp", "params": {"lr": 1e-3, "seed": 3, "model": "base", "batch": 64}, "tags": ["ddp"]})
    for rank in range(2):
        r = series("ddp", "train/loss", range(0, 1000), lambda s, rank=rank: 2.1 * math.exp(-s / 300) + 0.2 + 0.05 * rank + 0.02 * math.sin(s * 0.9 + rank))
        r["labels"] = {"rank": str(rank)}
        recs.append(r)
    recs.append({"run": "ddp", "status": "finished"})
    # Still running: the test logs more points into it with the page open.
    recs.append({"run": "live", "params": {"lr": 1e-3, "seed": 7, "model": "big", "batch": 128}, "tags": ["live"]})
    recs.append(series("live", "train/loss", range(500), lambda s: 2.0 * math.exp(-s / 400) + 0.2))
    recs.append(series("live", "val/loss", range(0, 500, 100), lambda s: 2.0 * math.exp(-s / 400) + 0.3))
    server.ingest(recs)


def start():
    d = tempfile.mkdtemp(prefix="strata-web-")
    store = os.path.join(d, "store")
    s = Server(store)
    populate(s)
    return s


def asset_proxy(server, web_dir):
    """Development aid: a loopback proxy serving the page's files from `web_dir` (the working copy of
    Sources/StrataServer/Web) and forwarding everything else to `server`, so the page can be tried
    without rebuilding the binary. The test uses it when STRATA_WEB_ASSETS is set; CI does not."""
    import http.server
    import threading
    import urllib.error
    types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, code, ctype, data):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/" or path.startswith("/assets/"):
                name = "index.html" if path == "/" else os.path.basename(path)
                with open(os.path.join(web_dir, name), "rb") as f:
                    return self.answer(200, types[os.path.splitext(name)[1]], f.read())
            try:
                with urllib.request.urlopen(server.url + self.path, timeout=60) as r:
                    return self.answer(r.status, "application/json", r.read())
            except urllib.error.HTTPError as e:
                return self.answer(e.code, "application/json", e.read())

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % httpd.server_address[1]
