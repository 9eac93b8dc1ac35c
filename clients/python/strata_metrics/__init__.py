"""Strata client: log metrics from a training script (standard library only).

    import strata
    run = strata.init(name="resnet-lr3e-4", params={"lr": 3e-4, "model": {"depth": 50}}, tags=["baseline"])
    for step in range(1000):
        run.log({"train/loss": loss, "lr": lr}, step=step)
    run.finish()

Points are queued and sent in batches by a background thread, either

* to a server (``strata serve``) when ``STRATA_URL`` is set (or ``url=`` is given), with
  ``STRATA_TOKEN`` (or ``token=``) as the bearer token; or
* with no server, into a local ``strata ingest`` process (``STRATA_BIN`` or ``strata`` on PATH)
  writing the store ``STRATA_STORE`` (or ``store=``, else ``./.strata``).

``init`` records the git commit and dirty flag, host, command line, Python version and the versions
of common ML packages as run metadata. Records are the JSON line records of ``strata ingest``
(docs/CLI.md); a name already in the store resumes that run, as with ``strata ingest``.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import math
import os
import platform
import queue
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

__all__ = ["init", "Run", "StrataError", "__version__"]
__version__ = "0.2.0"

# Packages whose versions are recorded when installed (plus any given with init(packages=...)).
WATCHED_PACKAGES = ["numpy", "torch", "jax", "tensorflow", "transformers", "scikit-learn", "pandas", "lightning", "strata-client"]


class StrataError(Exception):
    """A batch was refused (bad data, bad token) or could not be delivered."""


def init(name=None, params=None, tags=None, project=None, meta=None, url=None, token=None, store=None,
         packages=None, flush_interval=0.5, max_batch=10000, capture=True):
    """Starts (or resumes, when the name exists) a run and returns it.

    name: run name (default: ``<script>-<UTC time>``). params: dict, nested dicts flatten to dotted
    keys. tags: list of strings. meta: extra metadata (``purpose``, ``dataset.train``, ...).
    url / token: server (default ``$STRATA_URL`` / ``$STRATA_TOKEN``). store: local store when no
    server (default ``$STRATA_STORE``). capture: record git, host, command, Python and packages.
    """
    if name is None:
        script = os.path.splitext(os.path.basename(sys.argv[0] or "python"))[0] or "python"
        name = "%s-%s" % (script, _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S"))
    url = url if url is not None else os.environ.get("STRATA_URL") or None
    token = token if token is not None else os.environ.get("STRATA_TOKEN") or None
    if url:
        transport = _HTTPTransport(url, token)
    else:
        transport = _ProcessTransport(store if store is not None else os.environ.get("STRATA_STORE") or None)
    metadata = environment(packages) if capture else {}
    if meta:
        metadata.update(meta)
    run = Run(name, transport, flush_interval=flush_interval, max_batch=max_batch)
    first = {"run": name}
    if project:
        first["project"] = project
    if params:
        first["params"] = params
    if tags:
        first["tags"] = list(tags)
    if metadata:
        first["meta"] = metadata
    if len(first) == 1:
        first["meta"] = {"client": "strata-python " + __version__}
    run._put(first)
    return run


class Run:
    """A run being logged. Thread-safe; use as a context manager to finish it (``failed`` on an exception)."""

    def __init__(self, name, transport, flush_interval=0.5, max_batch=10000):
        self.name = name
        self.id = None  # known after the first batch reaches a server
        self._transport = transport
        self._queue = queue.Queue()
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._step = -1
        self._lock = threading.Lock()
        self._error = None
        self._finished = False
        self.sent_points = 0
        self._thread = threading.Thread(target=self._loop, name="strata-sender", daemon=True)
        self._thread.start()
        _live_runs.append(self)

    # -- public API --

    def log(self, metrics, step=None, time_ms=None, labels=None):
        """Logs ``{name: value}`` at ``step`` (default: previous step + 1). Values: numbers
        (NaN and ±inf kept), numpy / torch scalars; None skips a metric."""
        self._raise_if_failed()
        if self._finished:
            raise StrataError("run %r is finished" % self.name)
        values = {}
        for k, v in metrics.items():
            if v is None:
                continue
            values[str(k)] = _number(k, v)
        with self._lock:
            if step is None:
                step = self._step + 1
            elif isinstance(step, bool) or not isinstance(step, int):
                try:
                    step = int(step) if float(step) == int(step) else None
                except (TypeError, ValueError):
                    step = None
                if step is None:
                    raise TypeError("step must be an integer")
            self._step = max(self._step, step)
        if not values:
            return
        rec = {"run": self.name, "step": step, "time": int(time_ms if time_ms is not None else time.time() * 1000), "metrics": values}
        if labels:
            rec["labels"] = {str(k): str(v) for k, v in labels.items()}
        self._put(rec)

    def set_params(self, params):
        self._put({"run": self.name, "params": params})

    def tag(self, *tags):
        self._put({"run": self.name, "tags": list(tags)})

    def flush(self, timeout=60):
        """Blocks until everything logged so far is acknowledged (durable in the server's or the
        local writer's write-ahead log)."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise StrataError("flush timed out after %s s" % timeout)
        self._raise_if_failed()

    def finish(self, status="finished", timeout=60):
        """Sends what is left, marks the run finished (or failed) and stops the sender."""
        if self._finished:
            return
        self._put({"run": self.name, "status": status})
        self._finished = True
        done = threading.Event()
        self._queue.put(done)
        self._queue.put(None)
        ok = done.wait(timeout)
        self._thread.join(timeout)
        try:
            self._transport.close()
        finally:
            if self in _live_runs:
                _live_runs.remove(self)
        if not ok:
            raise StrataError("finish timed out after %s s" % timeout)
        self._raise_if_failed()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.finish("failed" if exc_type is not None else "finished")
        return False

    # -- internals --

    def _put(self, record):
        self._queue.put(record)

    def _raise_if_failed(self):
        if self._error is not None:
            raise self._error

    def _loop(self):
        stop = False
        while not stop:
            pending, waiters = [], []
            item = self._queue.get()
            deadline = time.monotonic() + self._flush_interval
            while True:
                if item is None:
                    stop = True
                    break
                if isinstance(item, threading.Event):
                    waiters.append(item)
                    break
                pending.append(item)
                if len(pending) >= self._max_batch:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if pending and self._error is None:
                try:
                    reply = self._transport.send(pending)
                    self.sent_points += sum(len(r.get("metrics", ())) for r in pending)
                    if reply and self.id is None:
                        for r in reply.get("runs", []):
                            if r.get("name") == self.name:
                                self.id = r.get("id")
                except StrataError as e:
                    self._error = e
                except Exception as e:  # noqa: BLE001 - report anything to the caller
                    self._error = StrataError("sending a batch failed: %s" % e)
            for w in waiters:
                w.set()


def _number(name, v):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)  # numpy / torch scalars, Decimal, ...
    except (TypeError, ValueError):
        raise TypeError("metric %r must be a number, got %r" % (name, v)) from None


def _dumps(records):
    # NaN / Infinity go as the bare tokens Python writes; the server and `strata ingest` accept them.
    return "\n".join(json.dumps(r, separators=(",", ":"), default=_json_default) for r in records) + "\n"


def _json_default(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


class _HTTPTransport:
    def __init__(self, url, token, max_bytes=8 << 20, retries=6):
        self.url = url.rstrip("/") + "/api/ingest"
        self.token = token
        self.max_bytes = max_bytes
        self.retries = retries

    def send(self, records, key=None):
        """Posts one batch. Every attempt of a batch carries the same ``Idempotency-Key``, so a
        retry after a lost answer (or a server killed mid-batch) is applied once."""
        key = key or uuid.uuid4().hex
        body = _dumps(records).encode()
        if len(body) > self.max_bytes and len(records) > 1:
            return self._split(records, key)
        delay = 0.2
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url, data=body, method="POST")
            req.add_header("Content-Type", "application/x-ndjson")
            req.add_header("Idempotency-Key", key)
            if self.token:
                req.add_header("Authorization", "Bearer " + self.token)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return json.loads(resp.read() or b"{}")
            except urllib.error.HTTPError as e:
                message = _error_message(e)
                if e.code == 413 and len(records) > 1:
                    return self._split(records, key)
                # 409: the same batch is still being applied (an earlier attempt): ask again.
                if (e.code < 500 and e.code != 409) or attempt == self.retries:
                    raise StrataError("server refused a batch of %d records (HTTP %d): %s" % (len(records), e.code, message)) from None
            except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
                if attempt == self.retries:
                    raise StrataError("cannot reach %s: %s" % (self.url, getattr(e, "reason", e))) from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        return None

    def _split(self, records, key):
        # Halves get keys derived from the batch's, so retrying the split is idempotent too.
        half = len(records) // 2
        a = self.send(records[:half], key + ".1")
        self.send(records[half:], key + ".2")
        return a

    def close(self):
        pass


def _error_message(e):
    try:
        return json.loads(e.read())["error"]["message"]
    except Exception:  # noqa: BLE001
        return str(e)


class _ProcessTransport:
    """Pipes JSON lines into a local `strata ingest` (started on the first batch)."""

    def __init__(self, store):
        self.store = store
        self.proc = None
        self.stderr = b""

    def _start(self):
        binary = os.environ.get("STRATA_BIN") or shutil.which("strata")
        if not binary:
            raise StrataError("no server (STRATA_URL is not set) and no `strata` binary (set STRATA_BIN or put strata on PATH)")
        args = [binary, "ingest", "--quiet"]
        if self.store:
            args += ["--store", self.store]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, records):
        if self.proc is None:
            self._start()
        try:
            self.proc.stdin.write(_dumps(records).encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise StrataError("`strata ingest` stopped: %s" % self._drain_error()) from None
        return None

    def _drain_error(self):
        try:
            self.proc.wait(timeout=10)
            return (self.proc.stderr.read() or b"").decode(errors="replace").strip() or "exit code %s" % self.proc.returncode
        except Exception as e:  # noqa: BLE001
            return str(e)

    def close(self):
        if self.proc is None:
            return
        self.proc.stdin.close()
        code = self.proc.wait(timeout=120)
        err = (self.proc.stderr.read() or b"").decode(errors="replace").strip()
        if code != 0:
            raise StrataError("`strata ingest` failed (exit %d): %s" % (code, err))


def environment(packages=None):
    """Reproduction facts: git commit and dirty flag, host, command line, Python, package versions."""
    m = {"host": socket.gethostname(), "command": " ".join(shlex.quote(a) for a in sys.argv) if sys.argv else "",
         "python": platform.python_version(), "python.implementation": platform.python_implementation(),
         "platform": platform.platform(), "pid": os.getpid(), "client": "strata-python " + __version__}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode == 0:
            m["git.commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10)
            if status.returncode == 0:
                m["git.dirty"] = bool(status.stdout.strip())
            branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, timeout=5)
            if branch.returncode == 0:
                m["git.branch"] = branch.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib import metadata as md
    except ImportError:  # pragma: no cover
        md = None
    if md is not None:
        for p in list(WATCHED_PACKAGES) + list(packages or []):
            try:
                m["pkg." + p] = md.version(p)
            except Exception:  # noqa: BLE001 - not installed
                pass
    return m


# Runs still open at interpreter exit are finished (or failed after an uncaught exception).
_live_runs = []
_crashed = []
_previous_hook = sys.excepthook


def _excepthook(kind, value, tb):
    _crashed.append(kind)
    _previous_hook(kind, value, tb)


sys.excepthook = _excepthook


@atexit.register
def _finish_all():
    for run in list(_live_runs):
        try:
            run.finish("failed" if _crashed else "finished")
        except Exception as e:  # noqa: BLE001
            print("strata: %s" % e, file=sys.stderr)
