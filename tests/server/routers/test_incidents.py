"""``routers/incidents.py``: incidents listed (a kill-switch drill opens none), and
acknowledged by an operator."""

from __future__ import annotations

from tests.conftest import make_incident
from warden.core.clock import SystemClock


def test_a_kill_switch_drill_opens_no_incident(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    assert api.get("/api/incidents").json()["items"] == []


def test_acknowledging_an_incident_needs_an_operator(api, store) -> None:
    now = SystemClock().now()
    store.open_incident(make_incident(criterion="error_rate>0.1/3600s", opened_at=now))
    assert [i["id"] for i in api.get("/api/incidents?status=open").json()["items"]] == ["inc_1"]
    assert api.get("/api/incidents", "other-bot").json()["items"] == []
    refused = api.post("/api/incidents/inc_1/ack", "reviewer", json={"reason": "seen"})
    assert refused.status_code == 403
    acked = api.post("/api/incidents/inc_1/ack", "operator", json={"reason": "seen"})
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged" and acked.json()["acked_by"] == "operator"
    assert api.get("/api/incidents?status=open").json()["items"] == []
    missing = api.post("/api/incidents/inc_nope/ack", "operator", json={"reason": "seen"})
    assert missing.status_code == 404
