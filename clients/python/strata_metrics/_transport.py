"""How batches reach the store: a server (HTTP) or a local `strata ingest --ack` process.

A transport's ``send(records)`` returns only when the store has answered for every record of
the batch: stored (durable) or refused. It returns a ``Sent``; a batch it could not deliver at all
(unreachable server, bad token, a stopped ``strata ingest``) raises ``StrataError``.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid


class StrataError(Exception):
    """A batch could not be delivered (unreachable server, bad token, stopped ``strata ingest``),
    or records were refused (``RecordRefused``)."""


class RecordRefused(StrataError):
    """Records the store refused (bad names, limits, ...); nothing of them was written, and every
    other record was kept. ``refused`` is a list of ``(record, message)``."""

    def __init__(self, refused):
        self.refused = list(refused)
        first_record, first_message = self.refused[0]
        more = " (and %d more refused records)" % (len(self.refused) - 1) if len(self.refused) > 1 else ""
        super().__init__("record refused: %s: %s%s" % (first_message, _shown(first_record), more))


class Sent:
    """What a store answered for one batch: the server's reply (None for a local ingest) and the
    refused records with their messages."""

    def __init__(self, reply=None, refused=None):
        self.reply = reply
        self.refused = refused or []


def _shown(record, limit=200):
    text = json.dumps(record, separators=(",", ":"), default=_json_default)
    return text if len(text) <= limit else text[:limit] + "…"


def _dumps(records):
    # NaN / Infinity go as the bare tokens Python writes; the server and `strata ingest` accept them.
    return "\n".join(json.dumps(r, separators=(",", ":"), default=_json_default) for r in records) + "\n"


def _json_default(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


class _HTTPTransport:
    """Posts batches to ``strata serve``. Every attempt of a batch carries the same
    ``Idempotency-Key``, so a retry after a lost answer (or a server killed mid-batch and started
    again) is applied once. Lost connections, 409, 5xx and 507 are retried with backoff for
    ``retry_timeout`` seconds."""

    def __init__(self, url, token, max_bytes=8 << 20, retry_timeout=120.0):
        self.url = url.rstrip("/") + "/api/ingest"
        self.token = token
        self.max_bytes = max_bytes
        self.retry_timeout = retry_timeout

    def send(self, records, key=None):
        key = key or uuid.uuid4().hex
        if len(_dumps(records)) > self.max_bytes and len(records) > 1:
            return self._split(records, key)
        refused = []
        while records:
            # A refused record leaves the batch unapplied: the others go again without it, under a
            # key derived from the batch's (so that retrying the rest is idempotent too).
            attempt = key if not refused else "%s~%d" % (key, len(refused))
            try:
                return Sent(self._post(records, attempt), refused)
            except _Refused as r:
                refused.append((records[r.index], r.message))
                records = records[:r.index] + records[r.index + 1:]
            except _TooLarge:
                sent = self._split(records, attempt)
                sent.refused[:0] = refused
                return sent
        return Sent(None, refused)

    def _post(self, records, key):
        """The server's reply to one batch, retried on lost connections, 409, 5xx for
        ``retry_timeout`` seconds."""
        body = _dumps(records).encode()
        deadline = time.monotonic() + self.retry_timeout
        delay = 0.05
        while True:
            req = urllib.request.Request(self.url, data=body, method="POST")
            req.add_header("Content-Type", "application/x-ndjson")
            req.add_header("Idempotency-Key", key)
            if self.token:
                req.add_header("Authorization", "Bearer " + self.token)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return json.loads(resp.read() or b"{}")
            except urllib.error.HTTPError as e:
                error = _error_body(e)
                message = "HTTP %d: %s" % (e.code, error.get("message") or e.reason)
                if e.code == 413 and len(records) > 1:
                    raise _TooLarge() from None
                if e.code == 413:
                    raise _Refused(0, message) from None
                index = error.get("index")
                if e.code == 400 and isinstance(index, int) and 0 <= index < len(records):
                    raise _Refused(index, message) from None
                # 409: the same batch is still being applied (an earlier attempt): ask again.
                if (e.code < 500 and e.code != 409) or time.monotonic() > deadline:
                    raise StrataError("server refused a batch of %d records (%s)" % (len(records), message)) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                if time.monotonic() > deadline:
                    raise StrataError("cannot reach %s (retried for %g s): %s" % (self.url, self.retry_timeout, getattr(e, "reason", e))) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _split(self, records, key):
        # Halves get keys derived from the batch's, so retrying the split is idempotent too.
        half = len(records) // 2
        a = self.send(records[:half], key + ".1")
        b = self.send(records[half:], key + ".2")
        return Sent(a.reply or b.reply, a.refused + b.refused)

    def close(self):
        pass


class _Refused(Exception):
    def __init__(self, index, message):
        super().__init__(message)
        self.index = index
        self.message = message


class _TooLarge(Exception):
    pass


def _error_body(e):
    try:
        return json.loads(e.read())["error"]
    except Exception:  # noqa: BLE001
        return {}


class _ProcessTransport:
    """Pipes JSON lines into a local ``strata ingest --ack --skip-bad`` (started on the first
    batch). Each batch ends with a control line ``{"ack": N}``; ``send`` returns when ingest has
    answered it, that is when every line of the batch is durable (fsynced) or refused. Refused lines
    are answered on ingest's stdout (``{"line": L, "error": ...}``) and the lines after them are
    logged (``--skip-bad``), so a refused record loses nothing but itself (docs/CLI.md,
    "Acknowledgements")."""

    def __init__(self, store):
        self.store = store
        self.proc = None
        self.lines = 0  # lines written to ingest so far
        self.acks = 0
        self.answers = queue.Queue()
        self.stderr = []

    def _start(self):
        binary = os.environ.get("STRATA_BIN") or shutil.which("strata")
        if not binary:
            raise StrataError("no server (STRATA_URL is not set) and no `strata` binary (set STRATA_BIN or put strata on PATH)")
        args = [binary, "ingest", "--quiet", "--ack", "--skip-bad"]
        if self.store:
            args += ["--store", self.store]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._read_answers, name="strata-ingest-answers", daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, name="strata-ingest-stderr", daemon=True)
        self._stderr_reader.start()

    def _read_answers(self):
        for line in self.proc.stdout:
            try:
                self.answers.put(json.loads(line))
            except ValueError:
                pass
        self.answers.put(None)  # ingest stopped

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace").rstrip())

    def send(self, records):
        if self.proc is None:
            self._start()
        first = self.lines + 1
        self.acks += 1
        ack = str(self.acks)
        try:
            self.proc.stdin.write((_dumps(records) + '{"ack":"%s"}\n' % ack).encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise StrataError("`strata ingest` stopped: %s" % self._why()) from None
        self.lines += len(records) + 1
        refused = []
        while True:
            answer = self.answers.get()
            if answer is None:
                raise StrataError("`strata ingest` stopped before acknowledging a batch: %s" % self._why())
            if "error" in answer:
                i = answer.get("line", 0) - first
                record = records[i] if 0 <= i < len(records) else None
                refused.append((record, answer["error"]))
            elif answer.get("ack") == ack:
                return Sent(refused=refused)

    def _why(self):
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "it does not answer"
        self._stderr_reader.join(10)
        return "; ".join(self.stderr) or "exit code %s" % code

    def close(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        code = self.proc.wait(timeout=120)
        self._stderr_reader.join(10)
        if code != 0:
            raise StrataError("`strata ingest` failed (exit %d): %s" % (code, "; ".join(self.stderr)))
