"""Strata client: log metrics from a training script (standard library only).

    import strata_metrics as strata
    run = strata.init(project="vision", name="resnet-lr3e-4", config={"lr": 3e-4, "model": {"depth": 50}},
                      tags=["baseline"], notes="lr sweep, first point")
    for step in range(1000):
        run.log({"train/loss": loss, "lr": lr}, step=step)
    run.summary["best_acc"] = best
    run.finish()                        # or: with strata.init(...) as run: ...

Points are queued and sent in batches by a background thread, either

* to a server (``strata serve``) when ``STRATA_URL`` is set (or ``url=`` is given), with
  ``STRATA_TOKEN`` (or ``token=``) as the bearer token; or
* with no server, into a local ``strata ingest`` process (``STRATA_BIN`` or ``strata`` on PATH)
  writing the store ``STRATA_STORE`` (or ``store=``, else ``./.strata``).

``init`` records the git commit and dirty flag, host, command line, Python version and the versions
of common ML packages as run metadata, and starts a sampler of system metrics (``sys/*`` series).
Records are the JSON line records of ``strata ingest`` (docs/CLI.md); a name already in the store
resumes that run, as with ``strata ingest``. The whole API: docs/PYTHON.md.
"""

from __future__ import annotations

import atexit
import datetime as _dt
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
import urllib.error  # noqa: F401 - kept as attributes of the module for callers and tests
import urllib.request  # noqa: F401

try:  # Python 3.8: collections.abc is there too
    from collections.abc import MutableMapping
except ImportError:  # pragma: no cover
    from collections import MutableMapping

from ._alerts import add_alert, alert_events, alerts, remove_alert
from ._system import SystemSampler
from ._transport import RecordRefused, StrataError, _HTTPTransport, _ProcessTransport, _dumps  # noqa: F401

__all__ = ["init", "fork", "add_alert", "alerts", "remove_alert", "alert_events", "log", "finish", "Run", "Config", "Summary", "StrataError", "RecordRefused", "SystemSampler", "environment",
           "run", "__version__"]
__version__ = "0.2.0"

# Packages whose versions are recorded when installed (plus any given with init(packages=...)).
WATCHED_PACKAGES = ["numpy", "torch", "jax", "tensorflow", "transformers", "scikit-learn", "pandas", "lightning",
                    "strata-metrics"]

#: The run the latest ``init`` started (None before, and after it finished), as ``wandb.run``.
run = None


def _env_flag(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    return v.strip().lower() not in ("0", "false", "no", "off")


def init(name=None, params=None, tags=None, project=None, meta=None, url=None, token=None, store=None,
         packages=None, flush_interval=0.5, max_batch=10000, capture=True, *, config=None, notes=None,
         system_metrics=None, system_interval=None, retry_timeout=120.0):
    """Starts (or resumes, when the name exists) a run, makes it the module's ``run`` and returns it.

    project: the run's project (default ``default``). name: run name (default
    ``<script>-<UTC time>``). config (or params, the same thing; both may be given): the run's
    hyperparameters, a dict (nested dicts flatten to dotted keys) or an ``argparse.Namespace``;
    later changes go through ``run.config``. tags: list of strings. notes: free text, stored as the
    metadata ``purpose``. meta: extra metadata (``dataset.train``, ...).
    url / token: server (default ``$STRATA_URL`` / ``$STRATA_TOKEN``). store: local store when no
    server (default ``$STRATA_STORE``). capture: record git, host, command, Python and packages.
    system_metrics: sample CPU, memory, disk, network and GPUs into ``sys/*`` series (default on;
    ``$STRATA_SYSTEM_METRICS=0`` turns the default off) every ``system_interval`` seconds
    (default ``$STRATA_SYSTEM_INTERVAL`` or 10). retry_timeout: seconds a batch is retried with
    the same idempotency key while the server is unreachable (restarting) before it is given up.
    """
    global run
    if name is None:
        script = os.path.splitext(os.path.basename(sys.argv[0] or "python"))[0] or "python"
        name = "%s-%s" % (script, _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S"))
    hyper = {}
    for given in (params, config):
        if given is None:
            continue
        if not isinstance(given, dict):
            given = vars(given)  # argparse.Namespace and other simple objects
        hyper.update(given)
    if system_metrics is None:
        system_metrics = _env_flag("STRATA_SYSTEM_METRICS", True)
    if system_interval is None:
        system_interval = float(os.environ.get("STRATA_SYSTEM_INTERVAL") or 10.0)
    url = url if url is not None else os.environ.get("STRATA_URL") or None
    token = token if token is not None else os.environ.get("STRATA_TOKEN") or None
    if url:
        transport = _HTTPTransport(url, token, retry_timeout=retry_timeout)
    else:
        transport = _ProcessTransport(store if store is not None else os.environ.get("STRATA_STORE") or None)
    metadata = environment(packages) if capture else {}
    if notes:
        metadata["purpose"] = str(notes)
    if meta:
        metadata.update(meta)
    r = Run(name, transport, flush_interval=flush_interval, max_batch=max_batch)
    first = {"run": name}
    if project:
        first["project"] = project
    if hyper:
        first["params"] = hyper
    if tags:
        first["tags"] = list(tags)
    if metadata:
        first["meta"] = metadata
    if len(first) == 1 or (len(first) == 2 and project):
        first["meta"] = {"client": "strata-metrics " + __version__}
    r._put(first)
    r.config._load(hyper)
    if system_metrics:
        r.system = SystemSampler(r._log_system, interval=system_interval).start()
    run = r
    return r


def fork(parent, at, name=None, params=None, url=None, token=None, store=None):
    """Forks run ``parent`` (name or id) at step ``at``: a new run that starts empty and inherits the
    parent's history up to and including ``at`` (its curves read that history, then its own points;
    docs/QUERIES.md, "Lineage"). ``params`` override the parent's. Through the server at ``url``
    (default ``$STRATA_URL``), else the local ``strata`` binary on ``store``. Returns
    ``{"id", "name", "parent", "fork_step"}``; log to it with ``init(name=...)``. Raises
    ``StrataError`` naming the run and step when the fork is refused (e.g. a step beyond the
    parent's last step)."""
    import json as _json
    import urllib.parse

    from . import _api

    if isinstance(at, bool) or not isinstance(at, int):
        raise TypeError("at must be an integer step")
    url = _api.server_url(url)
    if url:
        body = {"at": at}
        if name is not None:
            body["name"] = name
        if params:
            body["params"] = dict(params)
        path = "/api/runs/" + urllib.parse.quote(str(parent), safe="") + "/fork"
        return _api.request("POST", url, path, body, token, what="fork of %r at step %d refused" % (parent, at))
    binary = os.environ.get("STRATA_BIN") or shutil.which("strata")
    if not binary:
        raise StrataError("no server (STRATA_URL is not set) and no `strata` binary (set STRATA_BIN or put strata on PATH)")
    args = [binary, "fork", str(parent), "--at", str(at), "--json"]
    store = store if store is not None else os.environ.get("STRATA_STORE") or None
    if store:
        args += ["--store", store]
    if name is not None:
        args += ["--name", name]
    for k, v in (params or {}).items():
        args += ["--param", "%s=%s" % (k, v)]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise StrataError(done.stderr.strip() or "strata fork failed")
    return _json.loads(done.stdout)


def log(metrics, step=None, **kwargs):
    """``run.log`` of the run the latest ``init`` started."""
    if run is None:
        raise StrataError("no run: call strata_metrics.init() first")
    run.log(metrics, step=step, **kwargs)


def finish(exit_code=None, **kwargs):
    """``run.finish`` of the run the latest ``init`` started (nothing when there is none)."""
    if run is not None:
        run.finish(exit_code=exit_code, **kwargs)


class Config(MutableMapping):
    """The run's hyperparameters (``run.config``), as ``wandb.config``: a dict (also with attribute
    access) whose every change is sent to the store as the run's params. Nested dicts are stored
    with dotted keys (``{"optim": {"lr": 1}}`` is the param ``optim.lr``); every other value keeps its
    JSON shape: lists and tuples are lists, ``None`` is null (distinct from an absent key), ints of
    any size are exact, a string that looks like a number stays a string. Params cannot be removed
    from a stored run, so deleting a key raises ``TypeError``."""

    def __init__(self, run):
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", {})

    def _load(self, values):
        self._data.update(values)

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self.update({key: value})

    def __delitem__(self, key):
        raise TypeError("a run's params cannot be removed (config key %r)" % (key,))

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def update(self, other=(), **kwargs):
        """Sets several keys in one record."""
        if not isinstance(other, (dict, MutableMapping, list, tuple)) and hasattr(other, "__dict__"):
            other = vars(other)  # argparse.Namespace
        values = dict(other, **kwargs)
        for k in values:
            if not isinstance(k, str):
                raise TypeError("config keys are strings, got %r" % (k,))
        if not values:
            return
        self._run._put({"run": self._run.name, "params": values})
        self._data.update(values)

    def setdefaults(self, values):
        """Sets the keys of ``values`` that are not set yet (``wandb.config.setdefaults``)."""
        self.update({k: v for k, v in values.items() if k not in self._data})

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __repr__(self):
        return "Config(%r)" % (self._data,)


class Summary(MutableMapping):
    """The run's summary (``run.summary``), as ``wandb.summary``. The store keeps a summary of
    every series itself (count, first, last, min, max, mean, std: ``strata show``, ``/api/runs``),
    so nothing is sent for logged metrics: reading ``summary[metric]`` gives the last value this
    process logged. A value you set (``run.summary["best_acc"] = 0.93``) is stored as the run's
    metadata ``summary.best_acc`` (typed like params; filter with ``meta.summary.best_acc``) and
    read back before the logged one. Metadata cannot be removed, so deleting a key raises
    ``TypeError``."""

    def __init__(self, run):
        self._run = run
        self._set = {}
        self._last = {}

    def _logged(self, values):
        self._last.update(values)

    def __getitem__(self, key):
        if key in self._set:
            return self._set[key]
        return self._last[key]

    def __setitem__(self, key, value):
        self.update({key: value})

    def __delitem__(self, key):
        raise TypeError("run metadata cannot be removed (summary key %r)" % (key,))

    def __iter__(self):
        return iter(list(self._set) + [k for k in self._last if k not in self._set])

    def __len__(self):
        return len(set(self._set) | set(self._last))

    def update(self, other=(), **kwargs):
        """Sets several keys in one record."""
        values = dict(other, **kwargs)
        for k in values:
            if not isinstance(k, str):
                raise TypeError("summary keys are strings, got %r" % (k,))
        if not values:
            return
        self._run._put({"run": self._run.name, "meta": {"summary": values}})
        self._set.update(values)

    def __repr__(self):
        return "Summary(%r)" % (dict(self.items()),)


def _flatten(metrics, prefix, out):
    for k, v in metrics.items():
        key = prefix + str(k)
        if isinstance(v, dict):
            _flatten(v, key + "/", out)
        elif v is not None:
            out[key] = _number(key, v)
    return out


class Run:
    """A run being logged. Thread-safe; use as a context manager to finish it (``failed`` on an
    exception)."""

    def __init__(self, name, transport, flush_interval=0.5, max_batch=10000):
        self.name = name
        self.id = None  # known after the first batch reaches a server
        self.config = Config(self)
        self.summary = Summary(self)
        self.system = None  # the SystemSampler, when system metrics are on
        self._transport = transport
        self._queue = queue.Queue()
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._step = -1
        self._lock = threading.Lock()
        self._error = None  # a batch that could not be delivered: every later call raises it
        self._refused = []  # records refused since the last call that raised them
        self._finished = False
        self.sent_points = 0
        self._thread = threading.Thread(target=self._loop, name="strata-sender", daemon=True)
        self._thread.start()
        _live_runs.append(self)

    # -- public API --

    def log(self, metrics, step=None, time_ms=None, labels=None):
        """Logs ``{name: value}`` at ``step`` (default: previous step + 1). Values: numbers
        (NaN and ±inf kept), numpy / torch scalars; None skips a metric; a nested dict logs its
        values as ``outer/inner``."""
        self._raise_if_failed()
        if self._finished:
            raise StrataError("run %r is finished" % self.name)
        values = _flatten(metrics, "", {})
        with self._lock:
            if step is None:
                step = self._step + 1
            elif isinstance(step, bool) or not isinstance(step, int):
                try:
                    step = int(step) if float(step) == int(step) else None
                except (TypeError, ValueError, OverflowError):
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
        self.summary._logged(values)
        self._raise_refused()

    def set_params(self, params):
        """Merges ``params`` into the run's params (``run.config.update`` does the same)."""
        self.config.update(params)

    def tag(self, *tags):
        self._put({"run": self.name, "tags": list(tags)})

    def flush(self, timeout=None):
        """Returns when everything logged so far is durable: acknowledged by the server (in its
        write-ahead log) or by the local ``strata ingest`` (fsynced). Raises ``RecordRefused`` for
        records refused since the last call that raised (every other record is kept) and
        ``StrataError`` when a batch could not be delivered. ``timeout`` (seconds, default none)
        bounds the wait; the sender itself gives up on a server after ``retry_timeout``."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise StrataError("flush timed out after %s s" % timeout)
        self._raise_if_failed()
        self._raise_refused()

    def finish(self, status=None, timeout=None, exit_code=None):
        """Sends what is left, ends the run and stops the sender. The run ends ``failed`` when
        ``exit_code`` is not 0 (or ``status="failed"``), else ``finished``."""
        if self._finished:
            return
        if isinstance(status, int) and not isinstance(status, bool):
            status, exit_code = None, status  # finish(1), as wandb.finish(exit_code)
        if status is None:
            status = "failed" if exit_code not in (None, 0) else "finished"
        if status not in ("finished", "failed"):
            raise ValueError("status must be \"finished\" or \"failed\", got %r" % (status,))
        if self.system is not None:
            self.system.stop()
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
            global run
            if self in _live_runs:
                _live_runs.remove(self)
            if run is self:
                run = None
        if not ok:
            raise StrataError("finish timed out after %s s" % timeout)
        self._raise_if_failed()
        self._raise_refused()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.finish("failed" if exc_type is not None else "finished")
        return False

    # -- internals --

    def _put(self, record):
        self._queue.put(record)

    def _log_system(self, metrics, step, time_ms):
        # System samples have their own steps (ms since init): they do not move the run's step.
        if not self._finished:
            self._put({"run": self.name, "step": step, "time": time_ms, "metrics": metrics})

    def _raise_if_failed(self):
        if self._error is not None:
            raise self._error

    def _raise_refused(self):
        if self._refused:
            with self._lock:
                refused, self._refused = self._refused, []
            if refused:
                raise RecordRefused(refused)

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
                    sent = self._transport.send(pending)
                    refused = [r for r, _ in sent.refused]
                    self.sent_points += sum(len(r.get("metrics", ())) for r in pending) - sum(len((r or {}).get("metrics", ())) for r in refused)
                    if sent.refused:
                        with self._lock:
                            self._refused.extend(sent.refused)
                    if sent.reply and self.id is None:
                        for r in sent.reply.get("runs", []):
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



def environment(packages=None):
    """Reproduction facts: git commit and dirty flag, host, command line, Python, package versions."""
    m = {"host": socket.gethostname(), "command": " ".join(shlex.quote(a) for a in sys.argv) if sys.argv else "",
         "python": platform.python_version(), "python.implementation": platform.python_implementation(),
         "platform": platform.platform(), "pid": os.getpid(), "client": "strata-metrics " + __version__}
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
