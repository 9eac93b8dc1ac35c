"""Alert rules and events through `strata serve` (docs/API.md, "Alerts")."""
from . import _api
from ._transport import StrataError

_CONDITIONS = ("nonfinite", "above", "below", "no_improvement", "stalled_minutes", "baseline")


def _url(url):
    u = _api.server_url(url)
    if not u:
        raise StrataError("alerts need a server: pass url= or set STRATA_URL")
    return u


def add_alert(metric, run=None, project=None, nonfinite=False, above=None, below=None, no_improvement=None, mode=None,
              stalled_minutes=None, baseline=None, percent=None, webhook=None, new_metric=False, url=None, token=None):
    """Adds an alert rule on ``metric`` of ``run`` (name or id) or of every run of ``project``, with
    exactly one condition: ``nonfinite=True``, ``above=X``, ``below=X``, ``no_improvement=N``
    (``mode="min"|"max"``), ``stalled_minutes=M`` or ``baseline=RUN`` with ``percent=X``. The server
    posts each event to ``webhook`` (an ``http://`` URL) when given. ``new_metric=True`` allows a
    metric not logged yet. Returns the rule (``{"id", "scope", "metric", "condition", ...}``).
    Raises ``StrataError`` with the server's message when it refuses the rule."""
    body = {"metric": metric}
    for k, v in (("run", run), ("project", project), ("above", above), ("below", below), ("no_improvement", no_improvement),
                 ("mode", mode), ("stalled_minutes", stalled_minutes), ("baseline", baseline), ("percent", percent),
                 ("webhook", webhook)):
        if v is not None:
            body[k] = v
    if nonfinite:
        body["nonfinite"] = True
    if new_metric:
        body["new_metric"] = True
    return _api.request("POST", _url(url), "/api/alerts/rules", body, token, what="alert on %r refused" % metric)


def alerts(url=None, token=None):
    """The alert rules of the server's store: a list of rule dicts."""
    return _api.request("GET", _url(url), "/api/alerts/rules", token=token, what="listing alert rules failed")["rules"]


def remove_alert(rule_id, url=None, token=None):
    """Removes the alert rule ``rule_id`` (or a unique beginning or end of it); its events stay.
    Returns the removed rule."""
    import urllib.parse

    path = "/api/alerts/rules/" + urllib.parse.quote(str(rule_id), safe="")
    return _api.request("DELETE", _url(url), path, token=token, what="removing alert %r failed" % rule_id)["removed"]


def alert_events(run=None, url=None, token=None):
    """The alert events (of ``run``, name or id, when given) in firing order: dicts with ``id``,
    ``rule``, ``run``, ``series``, ``step``, ``value``, ``time_ms``, ``delivered_ms``,
    ``condition``. Receivers of webhooks deduplicate by ``id`` (delivery is at-least-once)."""
    return _api.request("GET", _url(url), "/api/alerts/events", token=token, query={"run": run},
                        what="listing alert events failed")["events"]
