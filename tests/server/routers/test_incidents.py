"""``routers/incidents.py``: incidents listed (a kill-switch drill opens none), and
acknowledged by an operator."""

from __future__ import annotations

from warden.core.clock import SystemClock
from warden.core.incidents import Incident


def test_a_kill_switch_drill_opens_no_incident(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    assert api.get("/api/incidents").json() == []


def test_acknowledging_an_incident_needs_an_operator(api, store) -> None:
    now = SystemClock().now()
    store.open_incident(
        Incident(
            id="inc_1",
            agent="test-agent",
            criterion="error_rate>0.1/3600s",
            metric="error_rate",
            threshold=0.1,
            value=0.3,
            samples=60,
            window_s=3600,
            action="page",
            mode="advisory",
            applied="paged",
            spec_hash="h",
            dedup_key="test-agent:error_rate:1",
            opened_at=now,
            summary="error rate 30 %",
        )
    )
    assert [i["id"] for i in api.get("/api/incidents?status=open").json()] == ["inc_1"]
    assert api.get("/api/incidents", "other-bot").json() == []
    refused = api.post("/api/incidents/inc_1/ack", "reviewer", json={"reason": "seen"})
    assert refused.status_code == 403
    acked = api.post("/api/incidents/inc_1/ack", "operator", json={"reason": "seen"})
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged" and acked.json()["acked_by"] == "operator"
    assert api.get("/api/incidents?status=open").json() == []
    missing = api.post("/api/incidents/inc_nope/ack", "operator", json={"reason": "seen"})
    assert missing.status_code == 404
