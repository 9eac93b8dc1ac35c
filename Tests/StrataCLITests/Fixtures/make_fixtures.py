#!/usr/bin/env python3
"""Writes the import fixtures with the real tools: tensorboardX (event files) and mlflow (an mlruns
file store), plus W&B-style history exports (JSONL and CSV).

    python3 make_fixtures.py OUTDIR        # needs: pip install tensorboardX mlflow-skinny

ImportTests.swift runs this script when `import tensorboardX` and `import mlflow` work and checks
the same values as for the committed copies in this directory. Keep the values in sync with
ImportTests.swift (`Fixture`).
"""
import json
import os
import shutil
import sys
import warnings

warnings.filterwarnings("ignore")
out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
T0 = 1760000000.0  # wall time of step 0, seconds


def loss(step):
    return 1.0 / (step + 1) + 0.125


def tensorboard():
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    import struct

    root = os.path.join(out, "tb")
    shutil.rmtree(root, ignore_errors=True)
    # run "exp1/train": classic scalars (Summary.Value.simple_value, a float32) and a histogram (skipped)
    w = SummaryWriter(logdir=os.path.join(root, "exp1", "train"), flush_secs=1)
    for step in range(0, 50, 5):
        w.add_scalar("loss", loss(step), step, walltime=T0 + step)
        w.add_scalar("train/accuracy", step / 50.0, step, walltime=T0 + step + 0.25)
    w.add_histogram("weights", [0.1, 0.2, 0.3, 0.5], 0, walltime=T0)
    w.close()
    # run "exp1/eval": TF2-style scalars, i.e. tensors with plugin "scalars" (metadata on the first value only):
    # float_val, double_val and tensor_content forms
    w = SummaryWriter(logdir=os.path.join(root, "exp1", "eval"), flush_secs=1)
    fw = w._get_file_writer()
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    for i, step in enumerate(range(0, 50, 10)):
        first = i == 0
        v_float = TensorProto(dtype=1, tensor_shape=TensorShapeProto(), float_val=[0.5 + step / 100.0])
        v_double = TensorProto(dtype=2, tensor_shape=TensorShapeProto(), double_val=[1.0 / 3.0 + step])
        v_content = TensorProto(dtype=2, tensor_shape=TensorShapeProto(), tensor_content=struct.pack("<d", 0.1 * step))
        values = [
            Summary.Value(tag="val/accuracy", tensor=v_float, metadata=meta if first else None),
            Summary.Value(tag="val/loss", tensor=v_double, metadata=meta if first else None),
            Summary.Value(tag="val/content", tensor=v_content, metadata=meta if first else None),
        ]
        fw.add_summary(Summary(value=values), step, walltime=T0 + 1000 + step)
    w.close()


def mlflow_store():
    # mlflow 3 keeps the file store in maintenance mode and refuses it unless asked
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow
    from mlflow.tracking import MlflowClient

    root = os.path.join(out, "mlruns")
    shutil.rmtree(root, ignore_errors=True)
    mlflow.set_tracking_uri("file://" + root)
    client = MlflowClient()
    exp = client.create_experiment("fixture-exp")
    run = client.create_run(exp, run_name="mlflow-run-1", start_time=int(T0 * 1000))
    rid = run.info.run_id
    for k, v in {"lr": 0.001, "batch_size": 32, "use_amp": True, "optimizer": "adam", "weight_decay": "1e-05"}.items():
        client.log_param(rid, k, v)
    client.set_tag(rid, "mlflow.source.git.commit", "0123456789abcdef0123456789abcdef01234567")
    client.set_tag(rid, "team", "vision")
    for step in range(0, 30, 3):
        client.log_metric(rid, "train/loss", loss(step), timestamp=int(T0 * 1000) + step * 10, step=step)
        client.log_metric(rid, "accuracy", step / 30.0, timestamp=int(T0 * 1000) + step * 10 + 1, step=step)
    client.set_terminated(rid, "FINISHED", end_time=int(T0 * 1000) + 60_000)
    run2 = client.create_run(exp, run_name="mlflow-run-2", start_time=int(T0 * 1000) + 100_000)
    client.log_param(run2.info.run_id, "lr", 0.01)
    client.log_metric(run2.info.run_id, "train/loss", float("nan"), timestamp=int(T0 * 1000) + 100_001, step=0)
    client.set_terminated(run2.info.run_id, "FAILED", end_time=int(T0 * 1000) + 100_500)


def wandb_exports():
    # W&B-style history exports (what `run.scan_history()` rows dumped as JSON lines and
    # `run.history().to_csv()` write). Written by this script, not by the wandb package.
    with open(os.path.join(out, "wandb-history.jsonl"), "w") as f:
        for step in range(0, 20, 2):
            row = {"_step": step, "_timestamp": T0 + step * 0.5, "_runtime": step * 0.5,
                   "train": {"loss": loss(step), "acc": step / 20.0}, "lr": 0.0003}
            if step == 4:
                row["samples"] = {"_type": "table-file", "path": "media/table.json"}  # non-numeric: skipped
                row["note"] = "warmup done"                                             # non-numeric: skipped
            if step == 6:
                row["val/loss"] = float("nan")
            f.write(json.dumps(row) + "\n")
    with open(os.path.join(out, "wandb-history.csv"), "w") as f:
        f.write(",_step,_runtime,_timestamp,train/loss,val/loss\n")
        for i, step in enumerate(range(0, 20, 2)):
            val = repr(loss(step) + 0.5) if step % 4 == 0 else ""
            f.write(f"{i},{step},{step * 0.5},{T0 + step * 0.5},{loss(step)!r},{val}\n")


if __name__ == "__main__":
    os.makedirs(out, exist_ok=True)
    parts = sys.argv[2:] or ["tensorboard", "mlflow", "wandb"]
    if "tensorboard" in parts:
        tensorboard()
    if "mlflow" in parts:
        mlflow_store()
    if "wandb" in parts:
        wandb_exports()
