"""Writes real W&B offline runs with the `wandb` package (WANDB_MODE=offline) into the current
directory and prints, as one JSON line, what was logged: config, tags, notes, group, job type,
exit code, summary overrides and every history value (as its 64-bit pattern, so NaN, ±Inf, −0.0
and subnormals are compared exactly). Run by test_import_wandb.py in a subprocess."""
import json
import math
import random
import struct
import sys

import wandb


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def awkward(n, rng):
    fixed = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
             0.1, 1 / 3, 1e-310, -1e300, 123456789.125]
    out = fixed[:]
    while len(out) < n:
        x = from_bits(rng.getrandbits(64))
        if not math.isnan(x):  # W&B keeps one NaN, not payloads
            out.append(x)
    return out[:n]


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    runs = []

    # 1: config of every type, tags, notes, group, job type, awkward doubles, nested keys, summary
    config = {"lr": 0.001, "text_lr": "0.10", "code": "007", "epochs": 12, "wd": 1e-5, "nesterov": True,
              "layers": [64, 32], "opt": {"name": "adam", "betas": {"b1": 0.9, "b2": 0.999}}}
    run = wandb.init(project="strata-import", name="awkward", config=config, tags=["baseline", "cnn"],
                     notes="first try", group="sweep-1", job_type="train")
    values = awkward(60, rng)
    hist = {"loss": [], "train/acc": [], "eval/nested/f1": []}
    for step, v in enumerate(values):
        acc = step / 60
        f1 = 1 / (step + 3)
        run.log({"loss": v, "train/acc": acc, "eval": {"nested": {"f1": f1}}, "note": "text is skipped"})
        hist["loss"].append([step, bits(v)])
        hist["train/acc"].append([step, bits(acc)])
        hist["eval/nested/f1"].append([step, bits(f1)])
    run.config.update({"extra": {"depth": 4}})  # config changed after init: config records
    run.config["late"] = "x"
    run.summary["best_acc"] = 0.875
    run.summary["loss"] = -1.5  # a summary that overrides the last history value
    run.finish()
    runs.append({"name": "awkward", "project": "strata-import", "config": dict(config, extra={"depth": 4}, late="x"), "tags": ["baseline", "cnn"],
                 "notes": "first try", "group": "sweep-1", "job_type": "train", "exit_code": 0,
                 "summary": {"best_acc": 0.875, "loss": -1.5}, "history": hist, "id": run.id})

    # 2: explicit steps with gaps, a failed exit
    # notes longer than a Strata metadata value (64 KiB): left out, counted
    run = wandb.init(project="strata-import", name="failed", config={"seed": 3}, notes="n" * 70000)
    hist = {"x": []}
    for step in (0, 5, 10, 1000):
        run.log({"x": step * 0.5}, step=step)
        hist["x"].append([step, bits(step * 0.5)])
    run.finish(exit_code=3)
    runs.append({"name": "failed", "project": "strata-import", "config": {"seed": 3}, "tags": [], "exit_code": 3,
                 "summary": {}, "history": hist, "id": run.id})

    # 3: rows larger than a 32 KiB block (records split into FIRST, MIDDLE and LAST chunks)
    run = wandb.init(project="other", name="wide", config={"width": 3000})
    hist = {}
    for step in range(3):
        row = {f"w/{k:04d}": rng.random() for k in range(3000)}
        run.log(row)
        for k, v in row.items():
            hist.setdefault(k, []).append([step, bits(v)])
    run.finish()
    runs.append({"name": "wide", "project": "other", "config": {"width": 3000}, "tags": [], "exit_code": 0,
                 "summary": {}, "history": hist, "id": run.id})
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
