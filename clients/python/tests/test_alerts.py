"""add_alert / alerts / alert_events / remove_alert: through a real `strata serve`."""
import time

import pytest

import strata_metrics as strata


def test_alert_rule_fires_and_is_listed(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="watched", capture=False)
    run.log({"loss": 1.0}, step=0)
    run.flush()

    rule = strata.add_alert("loss", run="watched", above=5.0)
    assert rule["metric"] == "loss" and rule["scope"] == "run" and rule["run"] == server.get("/api/runs/watched")["id"]
    assert rule["condition"]["kind"] == "above" and rule["condition"]["threshold"] == 5.0
    assert [r["id"] for r in strata.alerts()] == [rule["id"]]
    assert strata.alert_events() == []

    # The server picks up a new rule on its one-second timer; cross the threshold (and fall back
    # below it, which re-arms the rule) until it has fired. The deadline only guards against a hang.
    step, events, deadline = 1, [], time.time() + 60
    while not events and time.time() < deadline:
        run.log({"loss": 9.0}, step=step)
        run.log({"loss": 0.5}, step=step + 1)
        run.flush()
        step += 2
        events = strata.alert_events(run="watched")
    assert events, "the rule never fired"
    e = events[0]
    assert e["rule"] == rule["id"] and e["series"] == "loss" and e["value"] == 9.0 and e["step"] % 2 == 1
    assert e["run"] == rule["run"]

    other = strata.init(name="quiet", capture=False)
    other.log({"loss": 0.1}, step=0)
    other.flush()
    assert strata.alert_events(run="quiet") == []
    run.finish()
    other.finish()

    removed = strata.remove_alert(rule["id"])
    assert removed["id"] == rule["id"]
    assert strata.alerts() == []
    assert strata.alert_events(run="watched")[0]["id"] == e["id"]  # events outlive their rule


def test_bad_alerts_say_what(server, monkeypatch):
    monkeypatch.setenv("STRATA_URL", server.url)
    run = strata.init(name="r", capture=False)
    run.log({"loss": 1.0}, step=0)
    run.finish()
    with pytest.raises(strata.StrataError, match="acc"):
        strata.add_alert("acc", run="r", above=1.0)  # not logged in the run
    with pytest.raises(strata.StrataError, match="one condition"):
        strata.add_alert("loss", run="r", above=1.0, below=0.0)
    with pytest.raises(strata.StrataError, match="nosuchrun"):
        strata.alert_events(run="nosuchrun")
    assert strata.alerts() == []  # nothing was added by the refused calls


def test_alerts_need_a_server(monkeypatch):
    monkeypatch.delenv("STRATA_URL", raising=False)
    with pytest.raises(strata.StrataError, match="STRATA_URL"):
        strata.alerts()
