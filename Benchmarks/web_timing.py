#!/usr/bin/env python3
"""Browser timing of the web page (issue 13 "Speed"), read in headless Chromium through the DevTools
protocol (Navigation, Paint and Resource Timing, plus one in-page mark):

  first paint   navigation start -> every panel of the workspace drawn from its exact curve
                (a requestAnimationFrame check installed before the page's own scripts run);
                also the browser's first-contentful-paint and the navigation's own timings
  zoom          one panel's x range changed -> its curves fetched at pixel width and drawn
                (performance.now() around Panel.load, and the Resource Timing of its requests)

The workspace: RUNS runs selected, each with the same PANELS metrics of POINTS points (linear
steps, wall times 100 ms apart), in a fresh store served by the built `strata serve` on loopback.
The window is tall enough for every panel to be on screen (the page fetches only panels on screen).

    python3 Benchmarks/web_timing.py                     # 30 runs, 8 panels, 100,000 points each
    python3 Benchmarks/web_timing.py --points 2000 --repeat 2   # a quick check that it works

Uses the binary at $STRATA_BIN (default .build/release/strata, else .build/debug/strata) and
chromium ($STRATA_CHROMIUM or /usr/bin/chromium). Prints one JSON object; --out also writes it.
"""
import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "web"))
import cdp  # noqa: E402
import webstore  # noqa: E402

METRICS = ["train/loss", "train/acc", "train/lr", "train/grad_norm", "val/loss", "val/acc", "sys/gpu_util", "sys/mem_gb",
           "train/tokens_per_s", "val/perplexity", "sys/cpu", "sys/disk_gb"]

# Installed before the page's scripts: records when every panel first stands drawn.
PAINT_MARK = """
(() => {
  performance.setResourceTimingBufferSize(100000);   // the default 250 entries would drop requests
  const check = () => {
    const ps = [...document.querySelectorAll('#workspace .panel')];
    if (ps.length >= %(panels)d && ps.every(p => !p.dataset.loading && p.querySelector('svg.chart').dataset.drawn === '%(runs)d')) {
      window.__strataPainted = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""


def binary():
    for b in [os.environ.get("STRATA_BIN"), os.path.join(REPO, ".build", "release", "strata"), os.path.join(REPO, ".build", "debug", "strata")]:
        if b and os.access(b, os.X_OK):
            return b
    sys.exit("no strata binary: swift build -c release (or set STRATA_BIN)")


def populate(server, runs, panels, points):
    names = METRICS[:panels]
    per_batch = max(1, 400_000 // max(1, points))  # series per request (~400k points)
    batch = []
    for r in range(runs):
        name = "run%02d" % r
        batch.append({"run": name, "params": {"lr": [1e-4, 3e-4, 1e-3][r % 3], "seed": r // 3}, "tags": ["bench"]})
        for k, m in enumerate(names):
            steps = list(range(points))
            scale = 1 + 0.1 * r + k
            values = [scale * math.exp(-s / (points / 3)) + 0.01 * math.sin(s * 0.37 + r) for s in steps]
            batch.append({"run": name, "metric": m, "steps": steps, "values": values, "times": [webstore.T0 + s * 100 for s in steps]})
            if len(batch) >= per_batch:
                server.ingest(batch)
                batch = []
        batch.append({"run": name, "status": "finished"})
    if batch:
        server.ingest(batch)


def measure(args):
    os.environ["STRATA_BIN"] = binary()
    d = tempfile.mkdtemp(prefix="strata-webtiming-")
    server = webstore.Server(os.path.join(d, "store"))
    browser = None
    try:
        t = time.time()
        populate(server, args.runs, args.panels, args.points)
        ingest_s = time.time() - t
        ids = [r["id"] for r in server.get("/api/runs?limit=100000")["runs"]]
        url = server.url + "/?sel=" + ",".join(ids)
        # Tall enough for every panel (two per row, ~300 px each) to be on screen.
        browser = cdp.Browser(args.width, max(900, 420 + 330 * ((args.panels + 1) // 2)))
        page = browser.new_page()
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": PAINT_MARK % {"panels": args.panels, "runs": args.runs}})
        first, zoom = [], []
        for i in range(args.repeat):
            page.send("Page.navigate", {"url": "about:blank"})
            page.goto(url)
            page.wait("window.__strataPainted !== undefined", timeout=120, what="every panel drawn")
            nav = page.eval("(() => { const n = performance.getEntriesByType('navigation')[0];"
                            " return {responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()")
            fcp = page.eval("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
            res = page.eval("performance.getEntriesByType('resource').filter(e => /[/]api[/]curves?[?]/.test(e.name)).map(e => ({d: e.duration, size: e.encodedBodySize}))")
            check = page.eval("[...document.querySelectorAll('#workspace .panel')].map(p => [Number(p.dataset.buckets), Number(p.querySelector('svg.chart').dataset.pw)])")
            assert all(b == w for b, w in check), "each panel's curve is asked at its pixel width: %s" % check
            first.append({"all_panels_drawn_ms": page.eval("window.__strataPainted"), "first_contentful_paint_ms": fcp, **nav,
                          "curve_requests": len(res), "curve_request_ms_max": max((r["d"] for r in res), default=0),
                          "curve_bytes": sum(r["size"] for r in res)})
            # Zoom: the middle fifth of the first panel, then back (two re-queries per repeat).
            for frac in ((0.4, 0.6), None):
                z = page.eval("""(async () => {
                  const p = Workspace.panels.get(%s); const st = panelState(p.metric);
                  const f = %s;
                  if (f) { const [a, b] = [Number(p.svg.dataset.x0), Number(p.svg.dataset.x1)]; st.xr = [Math.floor(a + (b - a) * f[0]), Math.ceil(a + (b - a) * f[1])]; }
                  else delete st.xr;
                  performance.clearResourceTimings();
                  const t = performance.now(); await p.load(); const ms = performance.now() - t;
                  const res = performance.getEntriesByType('resource').filter(e => /[/]api[/]curves?[?]/.test(e.name));
                  return {ms, requests: res.length, request_ms_max: Math.max(0, ...res.map(e => e.duration)), drawn: Number(p.svg.dataset.drawn)}; })()""" % (json.dumps(METRICS[0]), json.dumps(frac)))
                assert z["drawn"] == args.runs, z
                zoom.append(z)

        def med(xs):
            xs = [x for x in xs if x is not None]
            return statistics.median(xs) if xs else None
        out = {
            "runs": args.runs, "panels": args.panels, "points_per_series": args.points, "repeat": args.repeat,
            "window": [args.width, browser.height], "ingest_s": round(ingest_s, 2),
            "first_paint_all_panels_ms_median": med([f["all_panels_drawn_ms"] for f in first]),
            "first_contentful_paint_ms_median": med([f["first_contentful_paint_ms"] for f in first]),
            "zoom_requery_ms_median": med([z["ms"] for z in zoom]),
            "zoom_request_ms_max_median": med([z["request_ms_max"] for z in zoom]),
            "first_paint": first, "zoom": zoom,
        }
        return out
    finally:
        if browser:
            browser.close()
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--panels", type=int, default=8, help="metrics per run (panels), at most %d" % len(METRICS))
    ap.add_argument("--points", type=int, default=100_000, help="points per series")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    if not 1 <= args.panels <= len(METRICS):
        ap.error("--panels must be 1 to %d" % len(METRICS))
    out = measure(args)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
