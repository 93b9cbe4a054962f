"""``warden outcomes record``: a person's action against the shadow proposal."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "alice"


@pytest.fixture
def gov(rollout_gov):
    return rollout_gov


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
    body = json.loads(agreed.stdout)
    assert (body["run_id"], body["agreed"], body["actor"]) == (run.id, True, "alice")
    text = cli("outcomes", "record", "test-agent", run.id, "--action", "null").output
    assert "disagrees" in text
    missing = cli("outcomes", "record", "test-agent", "nobody", "--action", "null")
    assert missing.exit_code == 1


def test_outcomes_record_takes_a_unique_prefix_of_the_run_id(cli, gov) -> None:
    with gov.run(input="t", routing_key="cust-2") as run:
        run.call("route_ticket", ticket_id="t-2", queue="card_arrival")
        run.resolve()
    gov.flush()
    result = cli("outcomes", "record", "test-agent", run.id[:10], "--action", "null", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] == run.id
