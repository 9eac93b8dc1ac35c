#!/usr/bin/env python3
"""Draws curve cost against run length (issue 17) as an SVG, from `strata-bench --scaling` output.

    python3 Benchmarks/scaling_svg.py scaling.json docs/scaling.svg [--before before.json [--before-label TEXT]]

x: points in the series (log scale); y: milliseconds of a warm 1000-bucket curve over the whole
series (and of a 1000-bucket zoom to 1 % of it). `--before` adds a series measured by another
build (a previous binary's `curve1000_ms_<n>_steps` figures, or another `--scaling` output).
Standard library only; the figures are read, never typed in.
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        d = json.load(f)
    if "scaling" in d:
        rows = d["scaling"]
        return {
            "curve": [(r["points"], r["curve_ms"]) for r in rows],
            "zoom": [(r["points"], r["zoom_ms"]) for r in rows],
        }
    # strata-bench results.json of an older build: curve1000_ms_<n>_steps keys.
    pts = []
    for k, v in d.get("timings", d).items():
        if k.startswith("curve1000_ms_") and k.endswith("_steps"):
            pts.append((float(k[len("curve1000_ms_"):-len("_steps")]), v))
    return {"curve": sorted(pts)}


def svg(series, out):
    W, H, L, R, T, B = 640, 380, 70, 170, 40, 50
    xs = [x for s in series for (x, _) in s[2]]
    ys = [y for s in series for (_, y) in s[2]]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y1 = max(ys) * 1.15
    px = lambda x: L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)
    py = lambda y: H - B - y / y1 * (H - T - B)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="14">1000-bucket curve cost against run length (warm, median)</text>',
         f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
         f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
    for e in range(math.ceil(x0), math.floor(x1) + 1):
        x = px(10 ** e)
        label = f"{10**e/1e6:g} M" if e >= 6 else f"{10**e/1e3:g} k"
        o.append(f'<line x1="{x:.1f}" y1="{H-B}" x2="{x:.1f}" y2="{H-B+5}" stroke="black"/>')
        o.append(f'<text x="{x:.1f}" y="{H-B+18}" text-anchor="middle">{label}</text>')
    step = 10 ** math.floor(math.log10(y1 / 4))
    for m in (1, 2, 5):
        if y1 / (step * m) <= 6:
            step *= m
            break
    y = 0.0
    while y <= y1:
        o.append(f'<line x1="{L-5}" y1="{py(y):.1f}" x2="{W-R}" y2="{py(y):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L-8}" y="{py(y)+4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    o.append(f'<text x="{(L+W-R)/2}" y="{H-10}" text-anchor="middle">points in the series</text>')
    o.append(f'<text x="16" y="{(T+H-B)/2}" transform="rotate(-90 16 {(T+H-B)/2})" text-anchor="middle">ms</text>')
    for i, (name, color, pts) in enumerate(series):
        pts = sorted(pts)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        o.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            o.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"><title>{x:.0f} points: {y:.3f} ms</title></circle>')
            o.append(f'<text x="{px(x)+5:.1f}" y="{py(y)-6:.1f}" font-size="10" fill="{color}">{y:.2f}</text>')
        ly = T + 10 + 20 * i
        o.append(f'<line x1="{W-R+12}" y1="{ly}" x2="{W-R+32}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        o.append(f'<text x="{W-R+36}" y="{ly+4}">{name}</text>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    now = load(a[0])
    series = [("whole-run curve", "#1f77b4", now["curve"])]
    if now.get("zoom"):
        series.append(("zoom to 1 %", "#2ca02c", now["zoom"]))
    if "--before" in a:
        label = a[a.index("--before-label") + 1] if "--before-label" in a else "before"
        series.append((label, "#d62728", load(a[a.index("--before") + 1])["curve"]))
    svg(series, a[1])


if __name__ == "__main__":
    main()
