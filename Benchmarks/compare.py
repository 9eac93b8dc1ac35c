#!/usr/bin/env python3
"""Prints the markdown table of docs/BENCHMARKS.md from two results files made in one session.

    python3 Benchmarks/compare.py strata-results.json duckdb-results.json
"""
import json
import sys

s = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))


def row(name, ours, theirs, unit, higher_is_better, target=""):
    if ours is None or theirs is None:
        return f"| {name} | {ours} | {theirs} | | {target} |"
    ratio = ours / theirs if higher_is_better else theirs / ours
    fmt = (lambda x: f"{x / 1e6:.1f} M") if unit == "pts/s" else (lambda x: f"{x:.3f}" if x < 10 else f"{x:.1f}")
    return f"| {name} | {fmt(ours)} | {fmt(theirs)} | {ratio:.1f}× | {target} |"


print("| figure | Strata | DuckDB | Strata advantage | target |")
print("| --- | --- | --- | --- | --- |")
print(row("I1 stream, points/s (metric groups)", s.get("I1_points_per_s"), d.get("I1_points_per_s"), "pts/s", True, "≥ 20 M"))
print(row("I1 stream, points/s (`log([String: Double])`)", s.get("I1_dict_points_per_s"), d.get("I1_points_per_s"), "pts/s", True, ""))
print(row("I2 bulk, points/s", s.get("I2_points_per_s"), d.get("I2_points_per_s"), "pts/s", True, "≥ 50 M"))
print(row("bytes/point, long", s.get("bytes_per_point_long"), d.get("bytes_per_point_long"), "", False, "≤ 2.9"))
print(row("bytes/point, sweep", s.get("bytes_per_point_sweep"), d.get("bytes_per_point_sweep"), "", False, "≤ 2.9"))
targets = {"Q1": "≥ 300 M pts/s decoded", "Q3": "≤ 1 ms", "Q4": "≤ 1 ms", "Q5": "≤ 2 ms", "Q6": "≤ 20 ms", "Q7": "≤ 2 ms"}
for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]:
    print(row(f"{q} warm, ms", s.get(f"{q}_warm_ms"), d.get(f"{q}_warm_ms"), "ms", False, targets.get(q, "") + (", ≥ 5× DuckDB" if q != "Q2" else "")))
for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]:
    print(row(f"{q} cold (open + query in a fresh process), ms", s.get(f"{q}_cold_ms"), d.get(f"{q}_cold_inside_ms"), "ms", False, "≤ 30 ms"))
for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]:
    print(row(f"{q} cold peak RSS, MiB", s.get(f"{q}_cold_peak_rss_mib"), d.get(f"{q}_cold_peak_rss_mib"), "", False, "≤ 64 MiB"))
print()
print(f"Q1 decode rate: {s.get('Q1_points_per_s', 0) / 1e6:.0f} M points/s. "
      f"Peak RSS while ingesting: I1 {s.get('I1_peak_rss_mib', 0):.0f} MiB, I2 {s.get('I2_peak_rss_mib', 0):.0f} MiB (target ≤ 256).")
curves = sorted((int(k.split("_")[2]), v) for k, v in s.items() if k.startswith("curve1000_ms_"))
if curves:
    print("1000-bucket curve over the whole run: " + ", ".join(f"{n:,} steps {ms:.3f} ms" for n, ms in curves) + ".")
