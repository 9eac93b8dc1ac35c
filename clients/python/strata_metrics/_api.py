"""One JSON request to `strata serve` (docs/API.md): the calls of the client that are not ingest."""
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from ._transport import StrataError


def server_url(url):
    """``url``, else ``$STRATA_URL``, else None."""
    return url if url is not None else os.environ.get("STRATA_URL") or None


def request(method, url, path, body=None, token=None, query=None, what="request"):
    """Sends ``body`` (a dict, as JSON) with ``method`` to ``url`` + ``path`` (+ ``query``, a dict)
    and returns the decoded JSON answer. ``token`` defaults to ``$STRATA_TOKEN``. A non-2xx answer
    raises ``StrataError`` starting with ``what`` and ending with the server's message."""
    full = url.rstrip("/") + path
    if query:
        full += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(full, data=data, method=method)
    if method != "GET":
        req.add_header("Content-Type", "application/json")  # the server refuses a write that does not say
    token = token if token is not None else os.environ.get("STRATA_TOKEN")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raw = e.read().decode(errors="replace")
        try:
            msg = json.loads(raw)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            msg = raw or "HTTP %d" % e.code
        raise StrataError("%s: %s" % (what, msg)) from None
    except urllib.error.URLError as e:
        raise StrataError("%s: cannot reach %s (%s)" % (what, url, e.reason)) from None
