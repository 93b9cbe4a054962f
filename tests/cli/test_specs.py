"""``warden spec validate|show`` (every problem with its line), and ``warden spec
apply|approve|changes`` (expansions wait for a second owner)."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from warden.cli.main import app

SPEC = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: ticket-router
      version: "{version}"
      owner: alice@example.com
      backup_owner: bob@example.com
      runbook: docs/runbook.md
    spec:
      scope: Route tickets.
      tools:
        route_ticket:
          access: write
          arguments:
            queue: {{enum: [{queues}]}}
    """
)


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
def cli(database_url, store, monkeypatch):
    monkeypatch.setenv("WARDEN_DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str, actor: str = "alice@example.com", user: str | None = None):
        """Run as ``actor`` (WARDEN_ACTOR) and the OS user ``user`` (default: actor's name)."""
        monkeypatch.setenv("WARDEN_ACTOR", actor)
        os_user = user or actor.split("@")[0]
        monkeypatch.setattr("warden.cli.shared.os_user", lambda: os_user)
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def write(tmp_path, version: str, queues: str):
    path = tmp_path / f"agent-{version}.yaml"
    path.write_text(SPEC.format(version=version, queues=queues))
    return str(path)


def test_expansion_waits_for_the_other_owner(cli, tmp_path) -> None:
    first = cli("spec", "apply", write(tmp_path, "1.0", "a, b"), "--json")
    assert json.loads(first.stdout)["kind"] == "initial"
    shown = cli("spec", "apply", write(tmp_path, "1.1", "a, b, c"))
    assert shown.exit_code == 0
    assert "expansion" in shown.output
    assert "spec.tools.route_ticket.arguments.queue.enum" in shown.output
    assert "pending: an owner other than alice@example.com" in shown.output
    changes = json.loads(cli("spec", "changes", "ticket-router", "--json").stdout)
    pending = changes[-1]
    assert pending["status"] == "pending"
    own = cli("spec", "approve", pending["to_hash"][:12])
    assert own.exit_code == 1
    assert "other than the person who applied" in own.output
    ok = cli(
        "spec", "approve", pending["to_hash"][:12], "--reason", "reviewed", actor="bob@example.com"
    )
    assert ok.exit_code == 0, ok.output
    assert "now the version in force" in ok.output
    log = json.loads(cli("audit", "log", "--json", "--agent", "ticket-router").stdout)
    assert [(e["action"], e["actor"]) for e in log if e["action"].startswith("spec.")] == [
        ("spec.apply", "alice@example.com"),
        ("spec.apply", "alice@example.com"),
        ("spec.approve", "bob@example.com"),
    ]


def test_one_os_user_relabelled_as_the_other_owner_cannot_approve(cli, store, tmp_path) -> None:
    """Regression (issue Authority): ``spec approve`` of a scope expansion by the OS user
    who applied it, with ``WARDEN_ACTOR`` set to the other owner, made one person two."""
    cli("spec", "apply", write(tmp_path, "1.0", "a, b"))
    cli("spec", "apply", write(tmp_path, "1.1", "a, b, c"))
    pending = json.loads(cli("spec", "changes", "ticket-router", "--json").stdout)[-1]
    assert pending["applied_principal"] == "os:alice"
    relabelled = cli(
        "spec", "approve", pending["to_hash"][:12], actor="bob@example.com", user="alice"
    )
    assert relabelled.exit_code == 1
    assert "other than the person who applied" in relabelled.output
    assert store.list_spec_changes("ticket-router")[-1].status.value == "pending"
    ok = cli("spec", "approve", pending["to_hash"][:12], actor="bob@example.com", user="bob")
    assert ok.exit_code == 0, ok.output
    assert store.list_spec_changes("ticket-router")[-1].approved_principal == "os:bob"


def test_contraction_applies_at_once_and_bad_files_exit_2(cli, tmp_path) -> None:
    cli("spec", "apply", write(tmp_path, "1.0", "a, b"))
    narrowed = json.loads(cli("spec", "apply", write(tmp_path, "1.1", "a"), "--json").stdout)
    assert (narrowed["kind"], narrowed["status"]) == ("contraction", "applied")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: warden/v1\nkind: Agent\n")
    assert cli("spec", "apply", str(bad)).exit_code == 2
    assert cli("spec", "approve", "nothing").exit_code == 1


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
    body = json.loads(result.stdout)
    assert body["valid"] is False
    assert [p["line"] for p in body["problems"]] == [13, 14, 18]


def test_spec_show_json_is_the_normalised_spec(cli) -> None:
    result = cli("spec", "show", "--json", "examples/ticket_router/agent.yaml")
    assert result.exit_code == 0
    spec = json.loads(result.stdout)
    assert spec["apiVersion"] == "warden/v1"
    assert spec["spec"]["tools"]["issue_refund"]["access"] == "blocked"
    assert spec["spec"]["policy"]["mode"] == "enforce"  # default filled in
