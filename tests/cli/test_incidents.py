"""``warden incidents list|show|ack|resolve``."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_incident
from warden.core.clock import SystemClock
from warden.core.incidents import Incident


@pytest.fixture
def actor() -> str:
    return "dana"


@pytest.fixture
def gov(oncall_gov):
    return oncall_gov


def incident(store, gov) -> Incident:
    inc, _ = store.open_incident(
        make_incident(
            criterion="error_rate>0.1/3600s",
            action="pause",
            mode="enforce",
            applied="paused",
            spec_hash=gov.spec_hash,
            dedup_key="test-agent:e:1",
            opened_at=SystemClock().now(),
            summary="test-agent 1.0.0: error_rate 0.3 > 0.1",
        )
    )
    return inc


def test_incidents_list_ack_resolve(cli, store, gov) -> None:
    incident(store, gov)
    rows = json.loads(cli("incidents", "list", "--json", "--agent", "test-agent").stdout)
    assert [(r["id"], r["status"]) for r in rows] == [("inc_1", "open")]
    acked = cli("incidents", "ack", "inc_1", "--json")
    assert json.loads(acked.stdout)["acked_by"] == "dana"
    assert cli("incidents", "ack", "inc_1").exit_code == 1  # already acknowledged
    assert cli("incidents", "resolve", "inc_1", "--reason", "fixed the CRM").exit_code == 0
    assert "resolved" in cli("incidents", "show", "inc_1").output
    assert cli("incidents", "show", "inc_nope").exit_code == 1
    actions = [e["action"] for e in json.loads(cli("audit", "log", "--json").stdout)]
    assert actions[-3:] == ["incident.opened", "incident.acknowledged", "incident.resolved"]


def test_ack_and_resolve_tell_pagerduty(cli, store, make_governor, spec_factory, sink) -> None:
    pd = {"type": "pagerduty", "target": "R0UTINGKEY", "url": f"{sink.url}/pd"}
    gov = make_governor(spec_factory({}, oncall={"channels": [pd]}), kill_criteria_every_s=None)
    incident(store, gov)
    acked = cli("incidents", "ack", "inc_1")
    assert acked.exit_code == 0, acked.output
    assert "acknowledge sent via pagerduty pagerduty routing key R0UT…: delivered" in acked.output
    assert cli("incidents", "resolve", "inc_1", "--reason", "fixed").exit_code == 0
    assert [(b["event_action"], b["dedup_key"]) for b in sink.bodies("/pd")] == [
        ("acknowledge", "test-agent:e:1"),
        ("resolve", "test-agent:e:1"),
    ]
    shown = cli("incidents", "show", "inc_1").output
    assert "acknowledge to owner via pagerduty" in shown and "resolve to owner" in shown
