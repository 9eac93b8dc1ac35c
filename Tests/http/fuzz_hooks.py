"""Schemathesis hooks of the HTTP fuzz pass (loaded through SCHEMATHESIS_HOOKS by fuzz.py).

Sends `application/x-ndjson` bodies (POST /api/ingest) as JSON lines: one record a line.

Logs every request schemathesis sends, as one JSON line in $STRATA_FUZZ_LOG: method, path,
status (null when no answer came: a timeout or a dropped connection), and for an acknowledged
POST /api/ingest its Idempotency-Key and `points`; for a delete, restore or fork that succeeded, the
`action` and the id of the run it changed or made (`run`). The run report keeps only the last request of
each test case, so fuzz.py counts requests, 5xx answers and acknowledged points from this log.
"""
import json
import os
from urllib.parse import urlsplit

import schemathesis

LOG = os.environ.get("STRATA_FUZZ_LOG")


def _write(entry):
    if LOG:
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")


def _header(request, name):
    for k, v in (request.headers or {}).items():
        if k.lower() == name.lower():
            return v if isinstance(v, str) else v.decode("latin-1")
    return None


@schemathesis.hook
def after_call(context, case, response):
    request = response.request
    entry = {"method": request.method, "path": urlsplit(request.url).path, "status": response.status_code}
    parts = entry["path"].split("/")
    if (request.method == "POST" and len(parts) == 5 and parts[1:3] == ["api", "runs"]
            and parts[4] in ("delete", "restore", "fork") and response.status_code in (200, 201)):
        # Run management that changed the store: which run it made, deleted or restored.
        entry["action"] = parts[4]
        try:
            entry["run"] = json.loads(response.content)["id"]
        except (ValueError, KeyError, TypeError):
            entry["run"] = None
    if request.method == "POST" and entry["path"] == "/api/ingest" and response.status_code == 200:
        entry["key"] = _header(request, "Idempotency-Key")
        try:
            entry["points"] = json.loads(response.content)["points"]
        except (ValueError, KeyError, TypeError):
            entry["points"] = None
    _write(entry)


@schemathesis.hook
def after_network_error(context, case, request):
    _write({"method": request.method, "path": urlsplit(request.url).path, "status": None})


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx, value):
    """The records of a batch one a line; a value that is not a list (a body that breaks the
    document on purpose) is sent as its JSON text."""
    if isinstance(value, list):
        return "".join(json.dumps(r) + "\n" for r in value).encode()
    return json.dumps(value).encode()
