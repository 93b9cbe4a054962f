"""``warden audit log|verify`` and the audit entries ``warden kill|unkill`` leave."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tampering import rehash_chain
from warden.core.audit import AuditDraft, AuditKey
from warden.errors import ConfigError
from warden.sdk.settings import Settings
from warden.store import SqlStore
from warden.store.tables import audit_head, audit_log, tool_calls


def test_kill_unkill_show_in_the_audit_log_and_verify_passes(
    cli, seen, monkeypatch, os_user
) -> None:
    seen("ticket-router")
    assert cli("kill", "ticket-router", "--reason", "refund spike").exit_code == 0
    assert cli("kill", "ticket-router", "--reason", "pressed twice").exit_code == 0
    assert cli("unkill", "ticket-router", "--reason", "fixed").exit_code == 0
    monkeypatch.setenv("WARDEN_ACTOR", "lead-sam")
    os_user("sam")
    assert cli("unkill", "ticket-router", "--reason", "fixed").exit_code == 0
    entries = json.loads(cli("audit", "log", "--json").stdout)
    assert [(e["seq"], e["action"], e["actor"]) for e in entries] == [
        (2, "kill_switch.engaged", "oncall-dana"),  # 1 seals the decisions of the run seen
        (3, "kill_switch.release_requested", "oncall-dana"),
        (4, "kill_switch.released", "lead-sam"),
    ]
    table = cli("audit", "log")
    assert "engaged: false -> true" in table.output
    verified = cli("audit", "verify")
    assert verified.exit_code == 0
    assert "intact: 4 entries" in verified.output


def test_verify_exits_1_naming_the_edited_entry(cli, database_url) -> None:
    for i in range(3):
        assert cli("kill", f"agent-{i}", "--reason", "drill", "--force").exit_code == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(reason="nothing"))
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output
    body = json.loads(cli("audit", "verify", "--json").stdout)
    assert (body["intact"], body["first_bad_seq"]) == (False, 2)


def test_audit_log_limit_and_agent_filter(cli) -> None:
    for i in range(4):
        assert cli("kill", f"agent-{i}", "--reason", "drill", "--force").exit_code == 0
    last_two = json.loads(cli("audit", "log", "--json", "--limit", "2").stdout)
    assert [e["seq"] for e in last_two] == [3, 4]
    only = json.loads(cli("audit", "log", "--json", "--agent", "agent-1").stdout)
    assert [e["agent"] for e in only] == ["agent-1"]


# -- the audit key, read at the edge --------------------------------------------------------

KEY_TEXT = "correct horse battery staple, 32+ characters long"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A WARDEN_HOME of the test's own, and no audit key configured."""
    monkeypatch.setenv("WARDEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WARDEN_AUDIT_KEY", raising=False)
    monkeypatch.delenv("WARDEN_AUDIT_KEY_FILE", raising=False)
    return tmp_path / "home"


def _keyed_store(database_url: str) -> SqlStore:
    return SqlStore(database_url, audit_key=AuditKey.from_text(KEY_TEXT))


def _fill(store: SqlStore, n: int) -> None:
    for i in range(n):
        store.append_audit(
            AuditDraft(
                at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                actor="dana",
                action="drill.kill_switch",
                agent="a",
                reason=f"drill {i}",
            )
        )


def _rehash_everything(database_url: str, edit_seq: int) -> None:
    """Finding 1: edit an entry, recompute every hash with ``entry_hash``, move the head."""
    engine = sa.create_engine(database_url)
    rehash_chain(engine, edit_seq, reason="nothing happened")
    engine.dispose()


def test_a_rehashed_chain_fails_verify_with_the_key(cli, database_url, home, monkeypatch) -> None:
    store = _keyed_store(database_url)
    _fill(store, 4)
    store.close()
    _rehash_everything(database_url, 2)
    without = cli("audit", "verify")  # no key: the hash chain alone looks fine, and says so
    assert without.exit_code == 0
    assert "authenticity was NOT checked" in without.output
    monkeypatch.setenv("WARDEN_AUDIT_KEY", KEY_TEXT)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output and "MAC" in result.output
    body = json.loads(cli("audit", "verify", "--json").stdout)
    assert (body["intact"], body["first_bad_seq"]) == (False, 2)


def test_verify_with_the_key_reports_it_and_entries_from_before_it(
    cli, database_url, home, monkeypatch
) -> None:
    cli("kill", "agent-0", "--reason", "before the key", "--force")
    store = _keyed_store(database_url)
    _fill(store, 2)
    store.close()
    monkeypatch.setenv("WARDEN_AUDIT_KEY", KEY_TEXT)
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact: 3 entries" in result.output
    assert AuditKey.from_text(KEY_TEXT).key_id in result.output
    assert "entry 1 has no MAC" in result.output
    strict = cli("audit", "verify", "--require-mac")
    assert strict.exit_code == 1


def test_the_key_file_is_created_once_with_0600_and_an_explicit_file_must_exist(
    home, monkeypatch, tmp_path
) -> None:
    settings = Settings.from_env()
    assert settings.audit_key(create=False) is None
    key = settings.audit_key()
    assert key is not None
    path = home / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings.from_env().audit_key(create=False).key_id == key.key_id
    assert KEY_TEXT not in repr(Settings.from_env())
    monkeypatch.setenv("WARDEN_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ConfigError, match=r"missing\.key"):
        Settings.from_env().audit_key()
    monkeypatch.setenv("WARDEN_AUDIT_KEY", KEY_TEXT)  # the variable wins over any file
    assert Settings.from_env().audit_key().key_id == AuditKey.from_text(KEY_TEXT).key_id
    monkeypatch.setenv("WARDEN_AUDIT_KEY", "too short")
    with pytest.raises(ConfigError, match="WARDEN_AUDIT_KEY"):
        Settings.from_env().audit_key()


def test_verify_reads_a_key_file(cli, database_url, home, monkeypatch, tmp_path) -> None:
    store = _keyed_store(database_url)
    _fill(store, 2)
    store.close()
    key_file = tmp_path / "k"
    key_file.write_text(KEY_TEXT + "\n")
    monkeypatch.setenv("WARDEN_AUDIT_KEY_FILE", str(key_file))
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert AuditKey.from_text(KEY_TEXT).key_id in result.output
    monkeypatch.setenv("WARDEN_AUDIT_KEY_FILE", str(tmp_path / "nope"))
    assert cli("audit", "verify").exit_code == 2


# -- finding 2: a policy decision edited in tool_calls -------------------------------------


def test_a_denied_call_edited_to_allowed_fails_verify(
    cli, database_url, home, make_governor, spec_factory
) -> None:
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
    assert cli("audit", "verify").exit_code == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(tool_calls)
            .where(tool_calls.c.run_id == run.id, tool_calls.c.seq == 2)
            .values(
                status="succeeded",
                decision={"verdict": "allow", "rule": "access", "reason": "ok", "hits": []},
            )
        )
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert run.id in result.output
    assert json.loads(cli("audit", "verify", "--json").stdout)["first_bad_run"] == run.id
    assert "run.decisions" not in cli("audit", "log").output
    assert "run.decisions" in cli("audit", "log", "--runs").output


# -- anchors ---------------------------------------------------------------------------------


def test_anchor_to_a_file_then_verify_against_it(cli, database_url, home, tmp_path) -> None:
    for i in range(4):
        cli("kill", f"agent-{i}", "--reason", "drill", "--force")
    anchor_file = tmp_path / "anchor.json"
    made = cli("audit", "anchor", "--to", str(anchor_file))
    assert made.exit_code == 0, made.output
    anchor = json.loads(anchor_file.read_text())
    assert anchor["seq"] == 4 and len(anchor["hash"]) == 64 and "at" in anchor
    assert cli("audit", "verify", "--anchor", str(anchor_file)).exit_code == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:  # cut the last two entries and move the head
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq > 2))
        second = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == 2)).scalar_one()
        conn.execute(sa.update(audit_head).values(seq=2, hash=second))
    engine.dispose()
    assert cli("audit", "verify").exit_code == 0  # the chain alone cannot tell
    result = cli("audit", "verify", "--anchor", str(anchor_file))
    assert result.exit_code == 1
    assert "BROKEN at entry 3" in result.output and "anchor" in result.output


def test_a_rewritten_chain_fails_against_the_anchor_without_the_key(
    cli, database_url, home, tmp_path
) -> None:
    for i in range(3):
        cli("kill", f"agent-{i}", "--reason", "drill", "--force")
    anchor_file = tmp_path / "anchor.json"
    assert cli("audit", "anchor", "--to", str(anchor_file)).exit_code == 0
    _rehash_everything(database_url, 1)
    result = cli("audit", "verify", "--anchor", str(anchor_file))
    assert result.exit_code == 1 and "anchor" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert cli("audit", "verify", "--anchor", str(broken)).exit_code == 2


def test_anchor_to_a_webhook_and_to_stdout(cli, home, sink) -> None:
    cli("kill", "agent-0", "--reason", "drill", "--force")
    sent = cli("audit", "anchor", "--webhook", f"{sink.url}/anchor")
    assert sent.exit_code == 0, sent.output
    [body] = sink.bodies("/anchor")
    assert body["seq"] == 1 and len(body["hash"]) == 64
    printed = json.loads(cli("audit", "anchor").stdout)
    assert printed["hash"] == body["hash"]
    sink.status["/down"] = [500]
    assert cli("audit", "anchor", "--webhook", f"{sink.url}/down").exit_code == 1


def test_anchor_refuses_a_broken_chain(cli, database_url, home, tmp_path) -> None:
    for i in range(2):
        cli("kill", f"agent-{i}", "--reason", "drill", "--force")
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 1).values(reason="edited"))
    engine.dispose()
    result = cli("audit", "anchor", "--to", str(tmp_path / "a.json"))
    assert result.exit_code == 1
    assert not (tmp_path / "a.json").exists()
