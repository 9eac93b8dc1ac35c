#!/usr/bin/env python3
"""Writes the JSON lines of the v1-store fixture (see README.md)."""
import json
import random

random.seed(7)
t = 1760000000000
for s in range(8500):
    v = round(random.lognormvariate(0, 1.0), 3)
    if s % 997 == 5:
        v = float("nan")
    if s == 4500:
        v = float("inf")
    if s == 4501:
        v = float("-inf")
    w = round(-3.0 + random.random(), 3)
    print(json.dumps({"run": "old", "step": s, "time": t + s, "metrics": {"train/grad_norm": v, "neg": w}}))
