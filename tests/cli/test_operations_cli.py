"""``warden incidents``, ``warden page test``, ``warden drill kill-switch``, ``warden monitor``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.pages_server import page_sink
from warden.cli.app import app
from warden.core.clock import SystemClock
from warden.core.incidents import Incident

TOOLS: dict[str, Any] = {
    "route_ticket": {"access": "write", "arguments": {"queue": {"max_length": 20}}}
}


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("WARDEN_DATABASE_URL", database_url)
    monkeypatch.setenv("WARDEN_ACTOR", "dana")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def sink():
    with page_sink() as s:
        yield s


@pytest.fixture
def gov(make_governor, spec_factory, sink):
    oncall = {
        "channels": [
            {"type": "webhook", "target": f"{sink.url}/owner"},
            {"type": "slack", "target": f"{sink.url}/slack"},
        ]
    }
    return make_governor(spec_factory(TOOLS, rollout={}, oncall=oncall), kill_criteria_every_s=None)


def incident(store, gov) -> Incident:
    inc, _ = store.open_incident(
        Incident(
            id="inc_1",
            agent="test-agent",
            criterion="error_rate>0.1/3600s",
            metric="error_rate",
            threshold=0.1,
            value=0.3,
            samples=60,
            window_s=3600,
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
    rows = json.loads(cli("incidents", "list", "--json", "--agent", "test-agent").output)
    assert [(r["id"], r["status"]) for r in rows] == [("inc_1", "open")]
    acked = cli("incidents", "ack", "inc_1", "--json")
    assert json.loads(acked.output)["acked_by"] == "dana"
    assert cli("incidents", "ack", "inc_1").exit_code == 1  # already acknowledged
    assert cli("incidents", "resolve", "inc_1", "--reason", "fixed the CRM").exit_code == 0
    assert "resolved" in cli("incidents", "show", "inc_1").output
    assert cli("incidents", "show", "inc_nope").exit_code == 1
    actions = [e["action"] for e in json.loads(cli("audit", "log", "--json").output)]
    assert actions[-3:] == ["incident.opened", "incident.acknowledged", "incident.resolved"]


def test_page_test_reaches_every_channel_and_counts_for_readiness(cli, store, gov, sink) -> None:
    result = cli("page", "test", "test-agent")
    assert result.exit_code == 0, result.output
    assert "webhook" in result.output and "delivered" in result.output
    assert sink.bodies("/owner")[0]["test"] is True
    assert "Test page" in sink.bodies("/slack")[0]["text"]
    items = {
        i["name"]: i["status"]
        for i in json.loads(cli("readiness", "test-agent", "--json").output)["items"]
    }
    assert items["oncall"] == "pass"
    sink.status["/owner"] = [500]
    assert cli("page", "test", "test-agent").exit_code == 1


def test_drill_cli_passes_and_readiness_sees_it(cli, store, gov) -> None:
    result = cli("drill", "kill-switch", "test-agent", "--keys", "2", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["passed"] is True and body["propagation_s"] < 1
    items = {
        i["name"]: i["status"]
        for i in json.loads(cli("readiness", "test-agent", "--json").output)["items"]
    }
    assert items["kill_switch_drill"] == "pass"
    cli("kill", "test-agent", "--reason", "real incident")
    assert cli("drill", "kill-switch", "test-agent").exit_code == 1


def test_monitor_once(cli, store, gov) -> None:
    result = cli("monitor", "--once", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
