"""``warden rollout``, ``warden outcomes record`` and ``warden readiness`` end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from warden.cli.app import app

TOOLS: dict[str, Any] = {
    "route_ticket": {"access": "write", "arguments": {"queue": {"max_length": 40}}}
}


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("WARDEN_DATABASE_URL", database_url)
    monkeypatch.setenv("WARDEN_ACTOR", "alice")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def gov(make_governor, spec_factory):
    g = make_governor(spec_factory(TOOLS, rollout={"shadow": {"min_runs": 3}}))

    @g.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    return g


def test_status_shows_the_stage_and_the_held_gate(cli, gov) -> None:
    body = json.loads(cli("rollout", "status", "test-agent", "--json").output)
    assert (body["stage"], body["version"], body["spec_hash"]) == ("shadow", 1, gov.spec_hash)
    assert body["gate"]["status"] == "fail"  # readiness fails: no drill, no evals...
    checks = {c["name"]: c["status"] for c in body["gate"]["checks"]}
    assert checks["agreement"] == "inconclusive"
    text = cli("rollout", "status", "test-agent").output
    assert "test-agent shadow" in text
    assert "0 of 3 shadow runs compared" in text


def test_advance_is_refused_by_the_gate_and_rollback_is_recorded(cli, gov, store) -> None:
    refused = cli("rollout", "advance", "test-agent", "--reason", "looks good")
    assert refused.exit_code == 1
    assert "stays in shadow" in refused.output
    assert store.get_rollout("test-agent").stage.value == "shadow"
    done = cli("rollout", "rollback", "test-agent", "--reason", "wrong queues", "--json")
    assert done.exit_code == 0
    assert json.loads(done.output)["stage"] == "rolled_back"
    stale = cli("rollout", "advance", "test-agent", "--reason", "x", "--expected-version", "1")
    assert stale.exit_code == 1
    assert "not 1" in stale.output
    restarted = cli(
        "rollout", "advance", "test-agent", "--reason", "fixed", "--expected-version", "2"
    )
    assert restarted.exit_code == 0, restarted.output  # rolled_back -> shadow needs no gate
    log = json.loads(cli("audit", "log", "--json", "--agent", "test-agent").output)
    assert [(e["action"], e["actor"]) for e in log] == [
        ("rollout.start", "warden"),
        ("rollout.rollback", "alice"),
        ("rollout.advance", "alice"),
    ]
    status = json.loads(cli("rollout", "status", "test-agent", "--json").output)
    assert [t["to_stage"] for t in status["transitions"]] == ["shadow", "rolled_back", "shadow"]


def test_the_kill_switch_shows_as_paused(cli, gov) -> None:
    cli("kill", "test-agent", "--reason", "drill")
    body = json.loads(cli("rollout", "status", "test-agent", "--json").output)
    assert (body["stage"], body["stored_stage"]) == ("paused", "shadow")
    assert "resumes shadow" in cli("rollout", "status", "test-agent").output


def test_outcomes_record_compares_with_the_proposal(cli, gov) -> None:
    with gov.run(input="t", routing_key="cust-1") as run:
        run.call("route_ticket", ticket_id="t-1", queue="card_arrival")
        run.resolve()
    gov.flush()
    agreed = cli(
        "outcomes",
        "record",
        "test-agent",
        "cust-1",
        "--action",
        '{"tool": "route_ticket", "arguments": {"queue": "card_arrival"}}',
        "--json",
    )
    assert agreed.exit_code == 0, agreed.output
    body = json.loads(agreed.output)
    assert (body["run_id"], body["agreed"], body["actor"]) == (run.id, True, "alice")
    text = cli("outcomes", "record", "test-agent", run.id, "--action", "null").output
    assert "disagrees" in text
    missing = cli("outcomes", "record", "test-agent", "nobody", "--action", "null")
    assert missing.exit_code == 1


def test_readiness_lists_each_item_with_its_fix(cli, gov) -> None:
    result = cli("readiness", "test-agent")
    assert result.exit_code == 1
    assert "fail kill_switch_drill" in result.output
    assert "fix: run a drill: warden drill kill-switch test-agent" in result.output
    body = json.loads(cli("readiness", "test-agent", "--json").output)
    assert body["passed"] is False
    by_name = {i["name"]: i for i in body["items"]}
    assert by_name["owners"]["status"] == "pass"
    assert by_name["eval_set"]["status"] == "fail"
    assert cli("readiness", "nobody").exit_code == 1
