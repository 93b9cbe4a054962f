"""``warden rollout status|advance|rollback`` end to end."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "alice"


@pytest.fixture
def gov(rollout_gov):
    return rollout_gov


def test_status_shows_the_stage_and_the_held_gate(cli, gov) -> None:
    body = json.loads(cli("rollout", "status", "test-agent", "--json").stdout)
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
    assert json.loads(done.stdout)["stage"] == "rolled_back"
    stale = cli("rollout", "advance", "test-agent", "--reason", "x", "--expected-version", "1")
    assert stale.exit_code == 1
    assert "not 1" in stale.output
    restarted = cli(
        "rollout", "advance", "test-agent", "--reason", "fixed", "--expected-version", "2"
    )
    assert restarted.exit_code == 0, restarted.output  # rolled_back -> shadow needs no gate
    log = json.loads(cli("audit", "log", "--json", "--agent", "test-agent").stdout)
    assert [(e["action"], e["actor"]) for e in log] == [
        ("rollout.start", "warden"),
        ("rollout.rollback", "alice"),
        ("rollout.advance", "alice"),
    ]
    status = json.loads(cli("rollout", "status", "test-agent", "--json").stdout)
    assert [t["to_stage"] for t in status["transitions"]] == ["shadow", "rolled_back", "shadow"]


def test_the_kill_switch_shows_as_paused(cli, gov) -> None:
    cli("kill", "test-agent", "--reason", "drill")
    body = json.loads(cli("rollout", "status", "test-agent", "--json").stdout)
    assert (body["stage"], body["stored_stage"]) == ("paused", "shadow")
    assert "resumes shadow" in cli("rollout", "status", "test-agent").output
