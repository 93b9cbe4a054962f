"""``routers/handoffs.py``: handoff packets by queue, a token bound to another agent sees
none of this agent's."""

from __future__ import annotations


def test_handoffs_by_queue_and_agent_binding(api, seeded) -> None:
    ids = seeded()
    handoffs = api.get("/api/handoffs").json()["items"]
    assert [(h["agent"], h["queue"], h["run_id"]) for h in handoffs] == [
        ("test-agent", "tier1-humans", ids[-1])  # the escalated run
    ]
    assert api.get("/api/handoffs?queue=tier1-humans").json()["items"] == handoffs
    assert api.get("/api/handoffs?queue=elsewhere").json()["items"] == []
    assert api.get("/api/handoffs", "router-bot").json()["items"] == handoffs
    assert api.get("/api/handoffs", "other-bot").json()["items"] == []
