"""The official MLflow client (mlflow-skinny, pinned in requirements-test.txt) against a live
`strata serve`: the MLflow tracking API of docs/MLFLOW.md, driven only by MLFLOW_TRACKING_URI
(and MLFLOW_TRACKING_TOKEN when the store has tokens)."""
import json
import math
import os
import random
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from built import built

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny is not installed (requirements-test.txt)")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`strata serve` on a free loopback port over a store of its own."""

    def __init__(self, store):
        self.store = store
        self.binary = built("strata", "STRATA_BIN")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen([self.binary, "serve", "--store", store, "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("strata serve exited: %s" % self.proc.stderr.read().decode())
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("strata serve did not start")

    def token(self, scope):
        out = subprocess.run([self.binary, "token", "create", "--store", self.store, "--scope", scope,
                              "--name", "%s-%d" % (scope, random.getrandbits(32))],
                             check=True, capture_output=True, text=True).stdout
        return out.strip()

    def strata(self, path, token=None):
        """A GET of Strata's own API: (status, JSON)."""
        req = urllib.request.Request(self.url + path)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def mlflow(self, method, endpoint, body=None, token=None, prefix="/api/2.0/mlflow/"):
        """A raw MLflow API call: (status, JSON)."""
        url = self.url + prefix + endpoint
        data = None
        if method == "GET" and body:
            from urllib.parse import urlencode
            url += "?" + urlencode(body, doseq=True)
        elif body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def server(monkeypatch):
    with tempfile.TemporaryDirectory() as d:
        s = Server(os.path.join(d, "store"))
        monkeypatch.setenv("MLFLOW_TRACKING_URI", s.url)
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
        # A refused request is answered at once, not retried for minutes.
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(s.url)
        try:
            yield s
        finally:
            while mlflow.active_run():
                mlflow.end_run()
            s.stop()


def bits(x):
    return struct.pack("<d", x)


def test_fluent_runs_nested_params_tags_and_termination(server):
    exp_id = mlflow.set_experiment("mnist").experiment_id
    with mlflow.start_run(run_name="sweep") as parent:
        mlflow.log_params({"lr": "0.10", "seed": "007", "layers": 12})
        mlflow.set_tags({"team": "vision", "stage": "dev"})
        mlflow.log_metrics({"val_loss": 0.25}, step=3)
        with mlflow.start_run(run_name="trial-1", nested=True) as child:
            mlflow.log_param("lr", "0.001")
            mlflow.log_metric("val_loss", 0.5, step=1)
        mlflow.log_metric("val_loss", 0.125, step=7)
    client = MlflowClient()
    p = client.get_run(parent.info.run_id)
    c = client.get_run(child.info.run_id)
    assert p.info.experiment_id == exp_id and c.info.experiment_id == exp_id
    assert p.info.status == "FINISHED" and c.info.status == "FINISHED"
    assert p.info.end_time >= p.info.start_time
    assert p.info.run_name == "sweep" and c.info.run_name == "trial-1"
    # Params come back as the text the client sent.
    assert p.data.params == {"lr": "0.10", "seed": "007", "layers": "12"}
    assert p.data.tags["team"] == "vision" and p.data.tags["stage"] == "dev"
    assert c.data.tags["mlflow.parentRunId"] == parent.info.run_id
    # The latest value is the one at the largest step.
    assert p.data.metrics == {"val_loss": 0.125}
    assert p.info.artifact_uri.endswith("/%s/artifacts" % parent.info.run_id)

    # The same runs through Strata's own API: experiment = project, nested run = parent.
    status, run = server.strata("/api/runs/" + child.info.run_id)
    assert status == 200
    assert run["project"] == "mnist" and run["parent"] == parent.info.run_id
    assert run["status"] == "finished"
    # Params keep their text and compare by the value it spells in Strata's filters.
    from urllib.parse import quote
    status, found = server.strata("/api/runs?where=" + quote("params.lr < 0.05"))
    assert status == 200 and [x["id"] for x in found["runs"]] == [child.info.run_id]
    status, found = server.strata("/api/runs?where=" + quote("params.seed = 7"))
    assert [x["id"] for x in found["runs"]] == [parent.info.run_id]

    # set_terminated with another status, then a later rename.
    client.set_terminated(child.info.run_id, status="FAILED", end_time=1_700_000_000_000)
    c = client.get_run(child.info.run_id)
    assert c.info.status == "FAILED" and c.info.end_time == 1_700_000_000_000
    client.update_run(child.info.run_id, name="trial-1b")
    assert client.get_run(child.info.run_id).info.run_name == "trial-1b"

    # Tags can be deleted; params cannot change.
    client.delete_tag(parent.info.run_id, "stage")
    assert "stage" not in client.get_run(parent.info.run_id).data.tags
    with pytest.raises(MlflowException) as e:
        client.log_param(parent.info.run_id, "lr", "0.2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    client.log_param(parent.info.run_id, "lr", "0.10")  # the same value again is fine


def awkward_values(n, rng):
    specials = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                -1.7976931348623157e308, 0.1, 1 / 3, 2 ** -1074 * 3, 9007199254740993.0,
                math.nan, math.inf, -math.inf]
    out = []
    for i in range(n):
        if i % 97 < len(specials):
            out.append(specials[i % 97])
        else:
            x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            out.append(x if math.isfinite(x) else rng.random())
    return out


def test_log_batch_100k_steps_and_bit_exact_history(server):
    rng = random.Random(11)
    client = MlflowClient()
    run = client.create_run(mlflow.set_experiment("long").experiment_id, run_name="long")
    rid = run.info.run_id
    n = 100_000
    values = awkward_values(n, rng)
    t0 = 1_760_000_000_000
    metrics = [Metric("train/loss", values[i], t0 + i, i) for i in range(n)]
    # The client splits the batch into requests of 1,000 metrics (MLflow's limit per log-batch).
    client.log_batch(rid, metrics=metrics, params=[Param("opt", "adam")], tags=[RunTag("kind", "long")])
    history = client.get_metric_history(rid, "train/loss")
    assert len(history) == n
    history.sort(key=lambda m: m.step)
    for i, m in enumerate(history):
        assert m.step == i and m.timestamp == t0 + i
        if math.isnan(values[i]):
            assert math.isnan(m.value)
        else:
            assert bits(m.value) == bits(values[i]), (i, m.value, values[i])

    # Several values at one step are all kept, in arrival order.
    client.log_batch(rid, metrics=[Metric("dup", 1.0, t0, 5), Metric("dup", 2.0, t0 + 1, 5)])
    assert [(m.step, m.value) for m in client.get_metric_history(rid, "dup")] == [(5, 1.0), (5, 2.0)]
    # A metric never logged has an empty history.
    assert client.get_metric_history(rid, "never") == []

    # get-history-bulk-interval: the first and last step always, at most max_results steps,
    # every value exactly as stored.
    status, body = server.mlflow("GET", "metrics/get-history-bulk-interval",
                                 {"run_ids": [rid], "metric_key": "train/loss", "max_results": 50,
                                  "start_step": 10, "end_step": 20009})
    assert status == 200, body
    got = body["metrics"]
    steps = [int(m["step"]) for m in got]
    assert steps[0] == 10 and steps[-1] == 20009 and len(steps) == 50 and steps == sorted(steps)
    for m in got:
        v = values[int(m["step"])]
        x = float(m["value"]) if not isinstance(m["value"], str) else float(m["value"].replace("Infinity", "inf"))
        assert (math.isnan(v) and math.isnan(x)) or bits(x) == bits(v)
        assert m["run_id"] == rid


def test_search_runs_filter_and_order_by(server):
    exp_id = mlflow.set_experiment("search").experiment_id
    rng = random.Random(5)
    logged = {}
    for i in range(24):
        lr = rng.choice(["0.001", "0.01", "0.1"])
        losses = [rng.random() for _ in range(rng.randint(1, 4))]
        with mlflow.start_run(run_name="r%02d" % i) as r:
            mlflow.log_param("lr", lr)
            mlflow.set_tag("parity", "even" if i % 2 == 0 else "odd")
            for step, loss in enumerate(losses):
                mlflow.log_metric("val_loss", loss, step=step)
        logged[r.info.run_id] = (lr, losses[-1], i)
    with mlflow.start_run(run_name="no-metric"):
        mlflow.log_param("lr", "0.001")

    got = mlflow.search_runs(experiment_ids=[exp_id],
                             filter_string="metrics.val_loss < 0.5 and params.lr = '0.001'",
                             order_by=["metrics.val_loss ASC"], output_format="list")
    want = sorted((rid for rid, (lr, loss, _) in logged.items() if lr == "0.001" and loss < 0.5),
                  key=lambda rid: logged[rid][1])
    assert want, "the random sweep must have matches"
    assert [r.info.run_id for r in got] == want

    # order_by params then metrics descending; tags in the filter; a page at a time.
    client = MlflowClient()
    order = ["params.lr DESC", "metrics.val_loss DESC"]
    pages, token = [], None
    while True:
        page = client.search_runs([exp_id], filter_string="tags.parity = 'odd'", order_by=order,
                                  max_results=5, page_token=token)
        pages += page
        token = page.token
        if not token:
            break
    want = sorted((rid for rid, (_, _, i) in logged.items() if i % 2 == 1),
                  key=lambda rid: (-float(logged[rid][0]), -logged[rid][1]))
    assert [r.info.run_id for r in pages] == want

    # Attributes: run name, status, and start time newest first by default.
    got = client.search_runs([exp_id], filter_string="attributes.run_name LIKE 'r1%'")
    assert sorted(r.info.run_name for r in got) == ["r%02d" % i for i in range(10, 20)]
    got = client.search_runs([exp_id], filter_string="attributes.status = 'FINISHED'",
                             order_by=["attributes.start_time DESC"])
    assert [r.info.start_time for r in got] == sorted((r.info.start_time for r in got), reverse=True)
    assert len(got) == 25
    # A malformed filter is refused with MLflow's code.
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], filter_string="metrics.val_loss <<< 3")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_experiments_errors_and_lifecycle(server):
    client = MlflowClient()
    # Names with spaces, '+' and '&' go through GET query strings (form-encoded by the client).
    for _ in range(2):
        odd = mlflow.set_experiment("my exp+1 & co/b")
    assert odd.name == "my exp+1 & co/b"
    odd_run = client.create_run(odd.experiment_id)
    client.log_metric(odd_run.info.run_id, "val loss+x", 1.5, step=2)
    assert [(m.key, m.value) for m in client.get_metric_history(odd_run.info.run_id, "val loss+x")] == [("val loss+x", 1.5)]
    assert client.get_experiment_by_name("nope") is None
    eid = client.create_experiment("e1", tags={"owner": "ml"})
    assert client.get_experiment(eid).name == "e1" and client.get_experiment(eid).tags == {"owner": "ml"}
    with pytest.raises(MlflowException) as e:
        client.create_experiment("e1")
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as e:
        client.get_run("01AAAAAAAAAAAAAAAAAAAAAAAA")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.get_experiment("9999")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    names = {x.name for x in client.search_experiments()}
    assert {"Default", "e1"} <= names

    client.rename_experiment(eid, "e1-renamed")
    assert client.get_experiment_by_name("e1-renamed").experiment_id == eid
    run = client.create_run(eid, run_name="kept")
    client.delete_experiment(eid)
    assert eid not in {x.experiment_id for x in client.search_experiments()}
    assert eid in {x.experiment_id for x in client.search_experiments(view_type=3)}
    client.restore_experiment(eid)

    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([eid]) == []
    assert [r.info.run_id for r in client.search_runs([eid], run_view_type=2)] == [run.info.run_id]
    with pytest.raises(MlflowException) as e:
        client.log_metric(run.info.run_id, "m", 1.0)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    client.restore_run(run.info.run_id)
    client.log_metric(run.info.run_id, "m", 1.0)

    # Datasets given with log-inputs are dataset.* metadata, and come back as inputs.
    ds = Dataset(name="mnist-train", digest="abc123", source_type="local", source="/data/mnist.npz")
    client.log_inputs(run.info.run_id, [DatasetInput(ds, tags=[InputTag("mlflow.data.context", "train")])])
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest, i.dataset.source) for i in inputs] == [("mnist-train", "abc123", "/data/mnist.npz")]
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "train"}
    status, info = server.strata("/api/runs/" + run.info.run_id)
    assert info["meta"]["dataset.mnist-train.digest"] == "abc123"

    # An endpoint Strata does not serve says so in MLflow's form; the ajax-api prefix works too.
    status, body = server.mlflow("POST", "model-versions/create", {"name": "m"})
    assert status == 404 and body["error_code"] == "ENDPOINT_NOT_FOUND"
    status, body = server.mlflow("GET", "runs/get", {"run_id": run.info.run_id}, prefix="/ajax-api/2.0/mlflow/")
    assert status == 200 and body["run"]["info"]["run_id"] == run.info.run_id


def test_deleted_run_is_tombstoned_yet_read_by_id(server):
    """runs/delete is Strata's tombstone: the run leaves Strata's listings (`strata runs`,
    /api/runs) and MLflow's default search, while MLflow still reads it by id (get_run shows
    lifecycle_stage "deleted" with its metrics, get_metric_history and the bulk-interval read
    return its points) and DELETED_ONLY / ALL searches list it; runs/restore brings it back."""
    from mlflow.entities import ViewType
    client = MlflowClient()
    eid = client.create_experiment("tomb")
    doomed = client.create_run(eid, run_name="doomed")
    kept = client.create_run(eid, run_name="kept")
    rid, kid = doomed.info.run_id, kept.info.run_id
    points = [(s, float("nan") if s == 25 else 1.0 / (s + 1)) for s in range(51)]
    client.log_batch(rid, metrics=[Metric("loss", v, 1_700_000_000_000 + s, s) for s, v in points])

    def strata_runs():
        """The ids `strata runs` lists (it shows their last 10 characters)."""
        out = subprocess.run([server.binary, "runs", "--store", server.store, "--limit", "100"],
                             check=True, capture_output=True, text=True).stdout
        return {r for r in (rid, kid) if r[-10:] in out}

    def search(view):
        return sorted(r.info.run_id for r in client.search_runs([eid], run_view_type=view))

    assert rid in strata_runs()
    for _ in range(2):  # deleting a deleted run changes nothing
        client.delete_run(rid)
    got = client.get_run(rid)
    assert got.info.lifecycle_stage == "deleted"
    assert got.data.metrics == {"loss": 1.0 / 51}
    history = client.get_metric_history(rid, "loss")
    assert [(m.step, bits(m.value)) for m in history] == [(s, bits(v)) for s, v in points]
    status, body = server.mlflow("GET", "metrics/get-history-bulk-interval",
                                 {"run_ids": rid, "metric_key": "loss", "max_results": 5})
    assert status == 200, body
    sampled = [m["step"] for m in body["metrics"]]
    assert len(sampled) == 5 and sampled[0] == 0 and sampled[-1] == 50
    # Hidden from Strata and from MLflow's default search; found when deleted runs are asked for.
    assert rid not in strata_runs() and kid in strata_runs()
    status, runs = server.strata("/api/runs")
    assert status == 200 and rid not in json.dumps(runs)
    assert search(ViewType.ACTIVE_ONLY) == [kid]
    assert search(ViewType.DELETED_ONLY) == [rid]
    assert search(ViewType.ALL) == sorted([rid, kid])
    # A deleted run's metrics are searchable among deleted runs.
    assert [r.info.run_id for r in client.search_runs([eid], "metrics.loss < 0.5", run_view_type=ViewType.DELETED_ONLY)] == [rid]
    assert client.search_runs([eid], "metrics.loss < 0.5", run_view_type=ViewType.ACTIVE_ONLY) == []
    with pytest.raises(MlflowException) as e:
        client.log_metric(rid, "loss", 1.0, step=60)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    # Restored: active everywhere again, with its points.
    for _ in range(2):  # restoring an active run changes nothing
        client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    assert rid in strata_runs()
    assert search(ViewType.ACTIVE_ONLY) == sorted([rid, kid])
    assert search(ViewType.DELETED_ONLY) == []
    assert len(client.get_metric_history(rid, "loss")) == len(points)
    with pytest.raises(MlflowException) as e:
        client.delete_run("01AAAAAAAAAAAAAAAAAAAAAAAA")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_tokens(server, monkeypatch):
    write = server.token("write")
    read = server.token("read")
    # The server re-reads the token file at most every 250 ms: wait until both tokens are known.
    deadline = time.time() + 10
    while time.time() < deadline and not (
            server.mlflow("GET", "experiments/get", {"experiment_id": "0"})[0] == 401
            and server.mlflow("GET", "experiments/get", {"experiment_id": "0"}, token=read)[0] == 200
            and server.mlflow("GET", "experiments/get", {"experiment_id": "0"}, token=write)[0] == 200):
        time.sleep(0.1)

    client = MlflowClient()
    # Without a token: nothing is readable or writable, reads sent as POST included.
    for call in (lambda: client.search_experiments(), lambda: client.create_experiment("x"),
                 lambda: client.search_runs(["0"]), lambda: client.get_experiment("0")):
        with pytest.raises(MlflowException) as e:
            call()
        assert e.value.error_code == "UNAUTHENTICATED"
    for method, endpoint, body in [("GET", "runs/get", {"run_id": "01AAAAAAAAAAAAAAAAAAAAAAAA"}),
                                   ("POST", "runs/search", {}), ("POST", "runs/log-batch", {}),
                                   ("GET", "metrics/get-history", {"run_id": "x", "metric_key": "m"}),
                                   ("GET", "metrics/get-history-bulk-interval", {"run_ids": ["x"], "metric_key": "m"}),
                                   ("POST", "experiments/search", {})]:
        for prefix in ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"):
            status, err = server.mlflow(method, endpoint, body, prefix=prefix)
            assert status == 401 and err["error_code"] == "UNAUTHENTICATED", (endpoint, status, err)

    # A write token logs.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", write)
    eid = mlflow.set_experiment("secured").experiment_id
    with mlflow.start_run() as r:
        mlflow.log_metric("acc", 0.5, step=1)

    # A read token reads, searches (POST) included, and cannot write.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", read)
    client = MlflowClient()
    assert client.get_run(r.info.run_id).data.metrics == {"acc": 0.5}
    assert [x.info.run_id for x in client.search_runs([eid])] == [r.info.run_id]
    assert "secured" in {x.name for x in client.search_experiments()}
    with pytest.raises(MlflowException) as e:
        client.log_metric(r.info.run_id, "acc", 0.6, step=2)
    assert e.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as e:
        client.create_experiment("by-reader")
    assert e.value.error_code == "PERMISSION_DENIED"
    assert [m.value for m in client.get_metric_history(r.info.run_id, "acc")] == [0.5]


ENDPOINTS = [
    ("POST", "experiments/create"), ("GET", "experiments/get"), ("GET", "experiments/get-by-name"),
    ("POST", "experiments/search"), ("POST", "experiments/delete"), ("POST", "experiments/restore"),
    ("POST", "experiments/update"), ("POST", "experiments/set-experiment-tag"),
    ("POST", "experiments/delete-experiment-tag"), ("POST", "runs/create"), ("GET", "runs/get"),
    ("POST", "runs/update"), ("POST", "runs/delete"), ("POST", "runs/restore"), ("POST", "runs/search"),
    ("POST", "runs/log-metric"), ("POST", "runs/log-batch"), ("POST", "runs/log-parameter"),
    ("POST", "runs/set-tag"), ("POST", "runs/delete-tag"), ("POST", "runs/log-inputs"),
    ("GET", "metrics/get-history"), ("GET", "metrics/get-history-bulk-interval"),
]


def test_bad_requests_get_mlflow_errors_and_store_nothing(server):
    """Every endpoint answers malformed or ill-typed input with a 4xx in MLflow's error form, and
    a refused log-batch stores nothing of itself."""
    rng = random.Random(3)
    client = MlflowClient()
    run = client.create_run("0", run_name="target")
    rid = run.info.run_id
    client.log_batch(rid, metrics=[Metric("m", 1.0, 1, 0)])
    junk = [None, 3, "x", [], {}, {"k": 1}, -1, 1e300, "NaN", True, "01AAAAAAAAAAAAAAAAAAAAAAAA", rid,
            2 ** 63 - 1, -2 ** 63, 2 ** 64, 1e19, "9223372036854775807", "-9223372036854775808", "0", "",
            [{"key": "m", "value": 1e308, "step": 2 ** 63 - 1, "timestamp": -2 ** 63}],
            [{"key": "k", "value": "v"}], ["a", "b"], "metrics.m > 1", "params.p = 'x'", "FINISHED", "ALL"]
    keys = ["run_id", "experiment_id", "name", "key", "value", "metrics", "params", "tags", "filter",
            "max_results", "page_token", "order_by", "status", "metric_key", "run_ids", "datasets",
            "start_step", "end_step", "view_type", "run_view_type", "experiment_name", "new_name"]
    for method, endpoint in ENDPOINTS:
        for _ in range(40):
            body = {k: rng.choice(junk) for k in rng.sample(keys, rng.randint(0, 5))}
            if method == "GET":
                body = {k: v for k, v in body.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
            status, answer = server.mlflow(method, endpoint, body)
            assert status < 500, (method, endpoint, body, answer)
            if status != 200:
                assert isinstance(answer.get("error_code"), str) and answer.get("message"), (endpoint, answer)
    # Page tokens at the edges of the integers.
    for token in ["9223372036854775807", "9223372036854775808", "-1", "1e3"]:
        for method, endpoint, body in [("POST", "runs/search", {"page_token": token}),
                                       ("POST", "experiments/search", {"page_token": token}),
                                       ("GET", "metrics/get-history", {"run_id": rid, "metric_key": "m", "page_token": token,
                                                                       "max_results": 25000000})]:
            status, answer = server.mlflow(method, endpoint, body)
            assert status in (200, 400), (endpoint, token, status, answer)
            if status == 200:
                assert answer.get("runs", answer.get("experiments", answer.get("metrics"))) in ([], None), answer
    assert server.proc.poll() is None
    # Malformed JSON.
    req = urllib.request.Request(server.url + "/api/2.0/mlflow/runs/log-batch", data=b'{"run_id": ',
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400 and json.loads(e.value.read())["error_code"] == "MALFORMED_REQUEST"
    # A batch with one bad metric stores none of its metrics.
    status, answer = server.mlflow("POST", "runs/log-batch", {"run_id": rid, "metrics": [
        {"key": "m", "value": 2.0, "timestamp": 2, "step": 1}, {"key": "m", "value": "x", "timestamp": 3, "step": 2}]})
    assert status == 400 and answer["error_code"] == "INVALID_PARAMETER_VALUE"
    status, answer = server.mlflow("POST", "runs/log-batch", {"run_id": rid, "metrics": [{"key": "m", "value": 1.0}] * 1001})
    assert status == 400 and answer["error_code"] == "INVALID_PARAMETER_VALUE"
    # Params and tags of a batch refused for its metrics are not stored either.
    status, answer = server.mlflow("POST", "runs/log-batch", {
        "run_id": rid, "params": [{"key": "p", "value": "1"}], "tags": [{"key": "t", "value": "1"}],
        "metrics": [{"key": "m", "value": 3.0, "step": 9}, {"key": "bad\u0001name", "value": 1.0}]})
    assert status == 400 and answer["error_code"] == "INVALID_PARAMETER_VALUE", answer
    after = client.get_run(rid)
    assert "p" not in after.data.params and "t" not in after.data.tags
    assert [(m.step, m.value) for m in client.get_metric_history(rid, "m")] == [(0, 1.0)]
    assert server.proc.poll() is None


def test_retried_batches_apply_once_and_survive_sigkill(monkeypatch):
    """A log-batch sent twice (a retry after a lost answer) is stored once, also after the server
    is killed with SIGKILL and restarted; points acknowledged before the kill are all there; the
    run reads as KILLED until the client logs to it again; experiments keep their ids."""
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "store")
        s = Server(store)
        try:
            monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            client = MlflowClient(tracking_uri=s.url)
            eid = client.create_experiment("kept")
            rid = client.create_run(eid, run_name="r").info.run_id
            batch = {"run_id": rid, "metrics": [{"key": "loss", "value": 1.0 / (i + 1), "timestamp": 1000 + i, "step": i}
                                                for i in range(500)]}
            for _ in range(2):
                assert s.mlflow("POST", "runs/log-batch", batch) == (200, {})
            other = {"run_id": rid, "metrics": [{"key": "loss", "value": 9.0, "timestamp": 5000, "step": 500}]}
            assert s.mlflow("POST", "runs/log-batch", other)[0] == 200
            assert len(client.get_metric_history(rid, "loss")) == 501
        finally:
            s.proc.kill()
            s.proc.wait()
        s = Server(store)
        try:
            client = MlflowClient(tracking_uri=s.url)
            assert client.get_experiment_by_name("kept").experiment_id == eid
            assert client.get_run(rid).info.status == "KILLED"
            history = sorted((m.step, m.value, m.timestamp) for m in client.get_metric_history(rid, "loss"))
            assert history == [(i, 1.0 / (i + 1), 1000 + i) for i in range(500)] + [(500, 9.0, 5000)]
            # The retry arrives after the restart: still once.
            assert s.mlflow("POST", "runs/log-batch", batch) == (200, {})
            assert len(client.get_metric_history(rid, "loss")) == 501
            client.log_metric(rid, "loss", 0.5, step=501)
            assert client.get_run(rid).info.status == "RUNNING"
            client.set_terminated(rid, status="KILLED")
            assert client.get_run(rid).info.status == "KILLED"
            assert len(client.get_metric_history(rid, "loss")) == 502
        finally:
            s.stop()


def test_damaged_experiments_file_is_reported_and_kept():
    """A damaged STORE/mlflow-experiments.json is named in a 500 and never overwritten; logging to
    a known run goes on."""
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "store")
        s = Server(store)
        try:
            client = MlflowClient(tracking_uri=s.url)
            eid = client.create_experiment("e")
            rid = client.create_run(eid).info.run_id
        finally:
            s.stop()
        path = os.path.join(store, "mlflow-experiments.json")
        with open(path, "rb") as f:
            damaged = f.read()[:-20]
        with open(path, "wb") as f:
            f.write(damaged)
        s = Server(store)
        try:
            status, err = s.mlflow("GET", "experiments/get", {"experiment_id": eid})
            assert status == 500 and err["error_code"] == "INTERNAL_ERROR" and "mlflow-experiments.json" in err["message"]
            status, err = s.mlflow("POST", "experiments/create", {"name": "new"})
            assert status == 500 and "mlflow-experiments.json" in err["message"]
            assert s.mlflow("POST", "runs/log-metric", {"run_id": rid, "key": "m", "value": 1, "step": 0}) == (200, {})
            with open(path, "rb") as f:
                assert f.read() == damaged
        finally:
            s.stop()
