"""``routers/audit.py``: the audit log records the kill switch, and its chain verifies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from warden.core.audit import AuditKey
from warden.server import create_app
from warden.store import SqlStore
from warden.store.tables import audit_log, tool_calls


def test_the_audit_log_and_its_chain(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    entries = api.get("/api/audit?agent=test-agent").json()
    assert [e["action"] for e in entries][-1] == "kill_switch.engaged"
    assert api.get("/api/audit/verify").json()["intact"] is True


KEY = AuditKey(b"r" * 32)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    """The server's store holds the audit key (``warden serve`` passes it in)."""
    s = SqlStore(database_url, audit_key=KEY)
    yield s
    s.close()


def test_verify_reports_the_key_and_the_finished_runs_checked(api, seeded) -> None:
    seeded()
    body = api.get("/api/audit/verify").json()
    assert body["intact"] is True
    assert body["key_id"] == KEY.key_id
    assert body["runs_checked"] >= 3
    assert body["warnings"] == []


def test_verify_names_the_run_whose_decisions_were_edited(api, seeded, store) -> None:
    seeded()
    with store.engine.begin() as conn:
        run_id = conn.execute(sa.select(tool_calls.c.run_id).limit(1)).scalar_one()
        conn.execute(
            sa.update(tool_calls).where(tool_calls.c.run_id == run_id).values(status="failed")
        )
    body = api.get("/api/audit/verify").json()
    assert (body["intact"], body["first_bad_run"]) == (False, run_id)
    assert run_id in body["problem"]


def test_verify_names_an_entry_whose_mac_is_wrong(api, seeded, store) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    last = store.audit_head().seq
    forged = AuditKey(b"m" * 32).sign(b"warden.audit.entry\x00", "0" * 64)
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == last).values(mac=forged))
    body = api.get("/api/audit/verify").json()
    assert (body["intact"], body["first_bad_seq"]) == (False, last)
    assert "not with this key" in body["problem"]


def test_a_server_without_the_key_says_authenticity_was_not_checked(seeded, database_url) -> None:
    seeded()
    plain = SqlStore(database_url)
    try:
        with TestClient(create_app(plain, auth=False)) as client:
            body = client.get("/api/audit/verify").json()
    finally:
        plain.close()
    assert body["intact"] is True and body["key_id"] is None
    assert "authenticity was not checked" in body["warnings"][0]
