"""flush() returns when everything logged is durable, in both modes; a refused record raises at the
next log/flush and loses nothing else; a server SIGKILLed while the client logs and started again
ends with every point stored exactly once."""
import json
import subprocess
import threading

import pytest

import strata_metrics as strata
from conftest import Server, export


class Mode:
    """The client set up for one mode; ``kill_writer()`` SIGKILLs what writes the store (the
    run's `strata ingest`, or the server)."""

    def __init__(self, name, server=None):
        self.name = name
        self.server = server

    def kill_writer(self, run):
        if self.server is not None:
            self.server.kill()
        else:
            run._transport.proc.kill()
            run._transport.proc.wait()


@pytest.fixture(params=["local", "server"])
def mode(request, strata_bin, store_dir, monkeypatch):
    monkeypatch.setenv("STRATA_BIN", strata_bin)
    if request.param == "local":
        monkeypatch.delenv("STRATA_URL", raising=False)
        monkeypatch.setenv("STRATA_STORE", store_dir)
        yield Mode("local")
    else:
        server = Server(strata_bin, store_dir)
        monkeypatch.setenv("STRATA_URL", server.url)
        try:
            yield Mode("server", server)
        finally:
            server.stop()


def points(strata_bin, store_dir, run, metric=None):
    return [(p["step"], p["value"]) for p in export(strata_bin, store_dir)
            if p["run"] == run and (metric is None or p["metric"] == metric)]


def test_ingest_ack_answers_control_lines_and_refused_lines(strata_bin, store_dir):
    """`strata ingest --ack`: {"ack": ID} is answered once every line before it is durable; a
    refused line is answered at once and, with --skip-bad, the lines after it are logged."""
    proc = subprocess.Popen([strata_bin, "ingest", "--ack", "--skip-bad", "--quiet", "--store", store_dir],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write('{"run": "a", "step": 1, "metrics": {"x": 1}}\n{"ack": "first"}\n')
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline()) == {"ack": "first", "line": 2}
        # Answered while ingest still runs: another process sees the point.
        assert points(strata_bin, store_dir, "a") == [(1, 1.0)]
        proc.stdin.write('{"run": "a", "step": 2, "metrics": {"bad{": 2}}\n'
                         '{"run": "a", "step": 3, "metrics": {"x": 3}}\n'
                         '{ "ack" : "second" }\n')
        proc.stdin.flush()
        refused = json.loads(proc.stdout.readline())
        assert refused["line"] == 3 and "bad{" in refused["error"]
        assert json.loads(proc.stdout.readline()) == {"ack": "second", "line": 5}
        assert points(strata_bin, store_dir, "a") == [(1, 1.0), (3, 3.0)]
        proc.stdin.write('{"ack": 7}\n')  # not a control line: refused like any bad line
        proc.stdin.close()
        assert "unknown key \\\"ack\\\"" in proc.stdout.readline()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # Without --skip-bad the refusal is answered too, then ingest stops (exit 1) keeping what came before.
    out = subprocess.run([strata_bin, "ingest", "--ack", "--quiet", "--store", store_dir],
                         input='{"run": "b", "step": 1, "metrics": {"x": 1}}\n{"run": "b", "step": "z", "metrics": {"x": 2}}\n',
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"line": 2, "error": "\"step\" must be an integer, got \"z\""}
    assert points(strata_bin, store_dir, "b") == [(1, 1.0)]


def test_flush_returns_when_everything_logged_is_durable(mode, strata_bin, store_dir):
    run = strata.init(name="durable", capture=False, flush_interval=60, max_batch=5000, retry_timeout=1)
    logged = []
    for round_ in range(3):
        for s in range(round_ * 20000, (round_ + 1) * 20000):
            run.log({"loss": s * 0.5}, step=s)
            logged.append((s, s * 0.5))
        run.flush()
        if round_ < 2:
            # The writer (`strata ingest` or the server) still runs; another process sees every point.
            assert points(strata_bin, store_dir, "durable") == logged
    # Durable: the writer killed right after flush() returned loses none of it.
    mode.kill_writer(run)
    assert points(strata_bin, store_dir, "durable") == logged
    with pytest.raises(strata.StrataError):
        run.finish()  # nothing to write to any more


def test_a_refused_record_raises_and_later_points_are_kept(mode, strata_bin, store_dir):
    run = strata.init(name="refusals", capture=False, flush_interval=60)
    for s in range(10):
        run.log({"loss": float(s)}, step=s)
    run.log({"bad{name": 1.0}, step=10)  # metric names cannot hold "{": the store refuses the record
    for s in range(11, 20):
        run.log({"loss": float(s)}, step=s)
    with pytest.raises(strata.RecordRefused, match="bad\\{name") as e:
        run.flush()
    assert [r for r, _ in e.value.refused] == [{"run": "refusals", "step": 10, "time": e.value.refused[0][0]["time"],
                                                "metrics": {"bad{name": 1.0}}]
    assert points(strata_bin, store_dir, "refusals") == [(s, float(s)) for s in range(20) if s != 10]

    # Raised once: logging goes on. The next log after a refusal raises it (its own point is kept).
    run.log({"loss": 20.0}, step=20)
    run.flush()
    run.log({"bad{again": 1.0}, step=21)
    with pytest.raises(strata.RecordRefused):
        for s in range(22, 1000000):
            run.log({"loss": float(s)}, step=s)
            if s % 100 == 0:
                run.flush()
    last = s
    run.finish()
    assert points(strata_bin, store_dir, "refusals") == [(s, float(s)) for s in range(last + 1) if s not in (10, 21)]


def test_killed_server_in_the_middle(strata_bin, store_dir, monkeypatch):
    """SIGKILL `strata serve` while the client logs, start it again on the same store and port:
    the client retries its batch with the same idempotency key, and every point (those acknowledged
    before the kill first of all) is stored exactly once."""
    server = Server(strata_bin, store_dir)
    port = server.port
    keys = []  # Idempotency-Key of every attempt
    real = strata.urllib.request.urlopen

    def spy(req, *args, **kwargs):
        if not isinstance(req, str):  # not the health checks of Server
            keys.append(req.get_header("Idempotency-key"))
        return real(req, *args, **kwargs)

    monkeypatch.setattr(strata.urllib.request, "urlopen", spy)
    run = strata.init(name="survivor", url=server.url, capture=False, flush_interval=0.005, max_batch=200)
    acknowledged = [0]  # steps below this were acknowledged (flush returned)
    errors = []
    total = 60000

    def train():
        try:
            for s in range(total):
                run.log({"loss": s * 0.25, "acc": s / total}, step=s)
                if s % 500 == 499:
                    run.flush()
                    acknowledged[0] = s + 1
            run.finish()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=train)
    t.start()
    try:
        while acknowledged[0] < 5000 and t.is_alive():
            t.join(0.01)
        before = acknowledged[0]
        attempts_before = len(keys)
        server.kill()
        # Down for a while: the client's attempts fail and are retried.
        while len(keys) < attempts_before + 3 and t.is_alive():
            t.join(0.01)
        server = Server(strata_bin, store_dir, port=port)
        t.join(300)
        assert not t.is_alive()
        assert errors == []
        assert before >= 5000
        retried = [k for k in set(keys) if keys.count(k) > 1]
        assert retried, "no batch was retried across the kill"
        stored = points(strata_bin, store_dir, "survivor", "loss")
        steps = [s for s, _ in stored]
        assert sorted(steps) == list(range(total))  # exactly once each, the acknowledged ones included
        assert sorted(stored) == [(s, s * 0.25) for s in range(total)]
        assert len(points(strata_bin, store_dir, "survivor", "acc")) == total
        assert server.get("/api/runs/survivor")["status"] == "finished"
    finally:
        server.stop()
