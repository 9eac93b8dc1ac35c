"""Writes an MLflow tracking database with the real `mlflow` package (sqlite:///mlflow.db in the
current directory) and prints, as one JSON line, what was logged and what MLflow's own client
reads back. Run by test_import_mlflow_db.py in a subprocess."""
import json
import math
import random
import struct
import sys

import mlflow
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.tracking import MlflowClient


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def main():
    rng = random.Random(5)
    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    client = MlflowClient()
    e1 = client.create_experiment("exp-one")
    e2 = client.create_experiment("exp-two")
    t0 = 1_760_000_000_000
    out = {"runs": []}

    params = {"lr": "0.10", "code": "007", "flag": "True", "small": "1e-3", "spaced": " 5", "word": "adam",
              "unicode": "h\u00e9llo \u2192 w\u00f6rld", "big": "123456789012345678901234567890"}
    a = client.create_run(e1, run_name="awkward", start_time=t0, tags={"team": "vision", "mlflow.note.content": "a note"})
    aid = a.info.run_id
    values = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623156e308,
              0.1, 1 / 3, -1e-310]
    while len(values) < 300:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if not math.isnan(x) and not math.isinf(x):
            values.append(x)
    metrics = [Metric("loss", v, t0 + i, i // 2) for i, v in enumerate(values)]  # two values per step
    metrics += [Metric("eval/acc", i / 7, t0 + 1000 + i, i * 10) for i in range(7)]
    for i in range(0, len(metrics), 100):
        client.log_batch(aid, metrics=metrics[i:i + 100],
                         params=[Param(k, v) for k, v in params.items()] if i == 0 else [])
    client.log_inputs(aid, [DatasetInput(Dataset("mnist-train", "d1g35t", "local", '{"uri": "/data/mnist"}'),
                                         [InputTag("mlflow.data.context", "training")])])
    client.set_terminated(aid, "FINISHED", end_time=t0 + 60_000)

    b = client.create_run(e1, run_name="child", start_time=t0 + 10, tags={"mlflow.parentRunId": aid})
    client.log_metric(b.info.run_id, "acc", 0.5, timestamp=t0 + 20, step=3)
    client.set_terminated(b.info.run_id, "FAILED", end_time=t0 + 30)

    c = client.create_run(e2, run_name="other-exp", start_time=t0 + 100)
    client.log_param(c.info.run_id, "lr", "1e-4")
    client.log_metric(c.info.run_id, "loss", 2.5, timestamp=t0 + 101, step=0)
    client.set_terminated(c.info.run_id, "KILLED", end_time=t0 + 200)

    d = client.create_run(e2, run_name="deleted", start_time=t0 + 300)
    client.log_metric(d.info.run_id, "loss", 1.0, timestamp=t0 + 301, step=0)
    client.delete_run(d.info.run_id)

    for run_id in (aid, b.info.run_id, c.info.run_id):
        r = client.get_run(run_id)
        hist = {}
        for key in r.data.metrics:
            hist[key] = [[m.step, bits(m.value), m.timestamp] for m in client.get_metric_history(run_id, key)]
        out["runs"].append({"id": run_id, "name": r.info.run_name, "status": r.info.status,
                            "experiment": client.get_experiment(r.info.experiment_id).name,
                            "params": r.data.params, "tags": {k: v for k, v in r.data.tags.items()},
                            "start": r.info.start_time, "end": r.info.end_time, "history": hist})
    out["logged_loss"] = [[m.step, bits(m.value), m.timestamp] for m in metrics if m.key == "loss"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
