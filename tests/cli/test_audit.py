"""``warden audit log|verify`` and the audit entries ``warden kill|unkill`` leave."""

from __future__ import annotations

import json

import sqlalchemy as sa

from warden.store.tables import audit_log


def test_kill_unkill_show_in_the_audit_log_and_verify_passes(cli, monkeypatch) -> None:
    assert cli("kill", "ticket-router", "--reason", "refund spike").exit_code == 0
    assert cli("kill", "ticket-router", "--reason", "pressed twice").exit_code == 0
    assert cli("unkill", "ticket-router", "--reason", "fixed").exit_code == 0
    monkeypatch.setenv("WARDEN_ACTOR", "lead-sam")
    assert cli("unkill", "ticket-router", "--reason", "fixed").exit_code == 0
    entries = json.loads(cli("audit", "log", "--json").output)
    assert [(e["seq"], e["action"], e["actor"]) for e in entries] == [
        (1, "kill_switch.engaged", "oncall-dana"),
        (2, "kill_switch.release_requested", "oncall-dana"),
        (3, "kill_switch.released", "lead-sam"),
    ]
    table = cli("audit", "log")
    assert "engaged: false -> true" in table.output
    verified = cli("audit", "verify")
    assert verified.exit_code == 0
    assert "intact: 3 entries" in verified.output


def test_verify_exits_1_naming_the_edited_entry(cli, database_url) -> None:
    for i in range(3):
        cli("kill", f"agent-{i}", "--reason", "drill")
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(reason="nothing"))
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output
    body = json.loads(cli("audit", "verify", "--json").output)
    assert (body["intact"], body["first_bad_seq"]) == (False, 2)


def test_audit_log_limit_and_agent_filter(cli) -> None:
    for i in range(4):
        cli("kill", f"agent-{i}", "--reason", "drill")
    last_two = json.loads(cli("audit", "log", "--json", "--limit", "2").output)
    assert [e["seq"] for e in last_two] == [3, 4]
    only = json.loads(cli("audit", "log", "--json", "--agent", "agent-1").output)
    assert [e["agent"] for e in only] == ["agent-1"]
