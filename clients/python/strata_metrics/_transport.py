"""How batches reach the store: a server (HTTP) or a local `strata ingest` process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid


class StrataError(Exception):
    """A batch was refused (bad data, bad token) or could not be delivered."""


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
