"""``routers/incidents.py``: incidents listed (a kill-switch drill opens none), and
acknowledged or resolved by an operator, which PagerDuty hears about (a local server)."""

from __future__ import annotations

from tests.conftest import make_incident, make_spec
from tests.pages_server import page_sink
from warden.core.clock import SystemClock
from warden.core.runs import SpecVersion


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


def test_ack_and_resolve_send_pagerduty_events_with_the_triggers_dedup_key(api, store) -> None:
    now = SystemClock().now()
    with page_sink() as sink:
        spec = make_spec(
            {},
            oncall={"channels": [{"type": "pagerduty", "target": "KEY1", "url": f"{sink.url}/pd"}]},
        )
        store.save_spec_version(SpecVersion.of(spec, now))
        store.open_incident(make_incident(spec_hash=spec.content_hash(), opened_at=now))
        acked = api.post("/api/incidents/inc_1/ack", "operator", json={"reason": "on it"})
        assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
        refused = api.post("/api/incidents/inc_1/resolve", "reviewer", json={"reason": "done"})
        assert refused.status_code == 403
        resolved = api.post("/api/incidents/inc_1/resolve", "operator", json={"reason": "done"})
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
        again = api.post("/api/incidents/inc_1/resolve", "operator", json={"reason": "done"})
        assert again.status_code == 409
        events = sink.bodies("/pd")
    assert [(e["event_action"], e["dedup_key"]) for e in events] == [
        ("acknowledge", "test-agent:error_rate:1"),
        ("resolve", "test-agent:error_rate:1"),
    ]
    pages = store.list_pages(incident_id="inc_1")
    assert [(p.event_action, p.delivered) for p in pages] == [
        ("acknowledge", True),
        ("resolve", True),
    ]
