"""The warden command line, end to end against the database under test."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from warden.cli.app import app
from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest, ApprovalStatus

THREE_MISTAKES = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: ticket-router
      version: "1.0"
      owner: alice@example.com
      backup_owner: bob@example.com
      runbook: docs/runbook.md
    spec:
      scope: Route tickets.
      tools:
        route_ticket:
          access: writ
          idempotnt: true
        issue_refund:
          access: blocked
          arguments:
            amount: {min: 10, max: 1}
    """
)


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("WARDEN_DATABASE_URL", database_url)
    monkeypatch.setenv("WARDEN_ACTOR", "oncall-dana")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_spec_validate_lists_every_problem_with_its_line(tmp_path, cli) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(THREE_MISTAKES)
    result = cli("spec", "validate", str(path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{path}:13: spec.tools.route_ticket.access: Input should be 'read', 'write', 'approval' or 'blocked'",
        f"{path}:14: spec.tools.route_ticket.idempotnt: unknown field (not part of warden/v1)",
        f"{path}:18: spec.tools.issue_refund.arguments.amount: min (10) is greater than max (1)",
    ]


def test_spec_validate_json_and_valid_file(tmp_path, cli) -> None:
    result = cli("spec", "validate", "examples/ticket_router/agent.yaml")
    assert result.exit_code == 0, result.output
    assert "valid (ticket-router" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(THREE_MISTAKES)
    result = cli("spec", "validate", "--json", str(bad))
    assert result.exit_code == 2
    body = json.loads(result.output)
    assert body["valid"] is False
    assert [p["line"] for p in body["problems"]] == [13, 14, 18]


def test_spec_show_json_is_the_normalised_spec(cli) -> None:
    result = cli("spec", "show", "--json", "examples/ticket_router/agent.yaml")
    assert result.exit_code == 0
    spec = json.loads(result.output)
    assert spec["apiVersion"] == "warden/v1"
    assert spec["spec"]["tools"]["issue_refund"]["access"] == "blocked"
    assert spec["spec"]["policy"]["mode"] == "enforce"  # default filled in


def test_kill_and_unkill_are_recorded_and_idempotent(cli, store) -> None:
    result = cli("kill", "ticket-router", "--reason", "refund spike")
    assert result.exit_code == 0
    assert "ENGAGED" in result.output
    first = store.get_kill_switch("ticket-router")
    assert first.engaged
    assert first.actor == "oncall-dana"
    again = cli("kill", "ticket-router", "--reason", "second press", "--json")
    assert json.loads(again.output)["reason"] == "refund spike"  # idempotent: unchanged
    # Turning it back on needs a second person.
    asked = json.loads(cli("unkill", "ticket-router", "--reason", "fixed", "--json").output)
    assert asked["state"]["engaged"] is True
    assert asked["pending"]["requested_by"] == "oncall-dana"
    again = json.loads(cli("unkill", "ticket-router", "--reason", "really", "--json").output)
    assert again["state"]["engaged"] is True  # the same person cannot approve their own request
    assert store.get_kill_switch("ticket-router").engaged


def test_unkill_needs_a_second_person(cli, store, monkeypatch) -> None:
    cli("kill", "ticket-router", "--reason", "refund spike")
    cli("unkill", "ticket-router", "--reason", "fixed")
    monkeypatch.setenv("WARDEN_ACTOR", "lead-sam")
    result = cli("unkill", "ticket-router", "--reason", "checked the fix", "--json")
    released = json.loads(result.output)
    assert released["state"]["engaged"] is False
    assert released["pending"] is None
    state = store.get_kill_switch("ticket-router")
    assert state.actor == "lead-sam"
    assert "asked by oncall-dana" in state.reason
    assert store.get_release_request("ticket-router") is None
    actions = [e.action for e in store.list_audit(agent="ticket-router")]
    assert actions == [
        "kill_switch.engaged",
        "kill_switch.release_requested",
        "kill_switch.released",
    ]
    off = json.loads(cli("unkill", "ticket-router", "--reason", "again", "--json").output)
    assert "already off" in off["message"]


def test_runs_list_and_show_explain_the_decision_trail(cli, make_governor, spec_factory) -> None:
    gov = make_governor(
        spec_factory({"lookup": {"access": "read"}, "refund": {"access": "blocked"}})
    )

    @gov.tool
    def lookup(customer_id: str) -> str:
        return "gold"

    with gov.run(input="refund my card fee") as run:
        run.call("lookup", customer_id="c1")
        run.call("refund", amount=5)
    gov.flush()
    listed = cli("runs", "list", "--json", "--status", "blocked")
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [run.id]
    shown = cli("runs", "show", run.id)
    assert shown.exit_code == 0
    text = shown.output
    assert 'Input: "refund my card fee"' in text
    assert 'Step 1: lookup(customer_id="c1") ran and succeeded.' in text
    assert "Step 2: refund(amount=5) was stopped. Policy denied (rule access)" in text
    assert "Ended blocked" in text
    detail = json.loads(cli("runs", "show", "--json", run.id).output)
    assert detail["tool_calls"][1]["decision"]["rule"] == "access"
    missing = cli("runs", "show", "run_nope")
    assert missing.exit_code == 1


def test_approvals_approve_and_deny(cli, store) -> None:
    now = SystemClock().now()
    for i in (1, 2):
        store.create_approval(
            ApprovalRequest(
                id=f"apr_{i}",
                run_id="r",
                agent="a",
                seq=i,
                tool="issue_refund",
                arguments={"amount": 100 * i},
                args_hash=f"h{i}",
                rule="conditional_approval",
                reason="needs approval",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    listed = json.loads(cli("approvals", "list", "--json").output)
    assert [a["id"] for a in listed] == ["apr_1", "apr_2"]
    assert cli("approvals", "approve", "apr_1").exit_code == 0
    denied = cli("approvals", "deny", "apr_2", "--reason", "fraud", "--json")
    assert json.loads(denied.output)["status"] == "denied"
    assert store.get_approval("apr_1").status is ApprovalStatus.APPROVED
    assert store.get_approval("apr_1").decided_by == "oncall-dana"
    twice = cli("approvals", "deny", "apr_1", "--reason", "too late")
    assert twice.exit_code == 1
    assert "already approved" in twice.output
    assert json.loads(cli("approvals", "list", "--json").output) == []


def test_handoffs_list_shows_the_human_queue(cli, make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure which queue")
    gov.flush()
    rows = json.loads(cli("handoffs", "list", "--json", "--queue", "tier1-humans").output)
    assert [(h["run_id"], h["trigger"]) for h in rows] == [(run.id, "manual")]


def test_db_upgrade_and_bad_url(cli, monkeypatch) -> None:
    assert cli("db", "upgrade").exit_code == 0
    monkeypatch.setenv("WARDEN_DATABASE_URL", "mysql://nope")
    result = cli("runs", "list")
    assert result.exit_code == 1
    assert "unsupported database" in result.output
