"""``routers/audit.py``: the audit log records the kill switch, and its chain verifies."""

from __future__ import annotations


def test_the_audit_log_and_its_chain(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    entries = api.get("/api/audit?agent=test-agent").json()
    assert [e["action"] for e in entries][-1] == "kill_switch.engaged"
    assert api.get("/api/audit/verify").json()["intact"] is True
