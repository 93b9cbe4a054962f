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


def test_claim_resolve_reassign_roles_conflicts_and_unknown(api, seeded, store) -> None:
    ids = seeded()
    [packet] = store.list_handoffs()
    path = f"/api/handoffs/{packet.id}"
    assert api.post(f"{path}/claim", "viewer").status_code == 403
    assert api.post(f"{path}/claim", "other-bot").status_code == 403  # bound elsewhere
    claimed = api.post(f"{path}/claim", "reviewer")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "reviewer"
    taken = api.post(f"{path}/claim", "router-bot")
    assert taken.status_code == 409 and "claimed by reviewer" in taken.json()["error"]["message"]
    moved = api.post(
        f"{path}/reassign", "reviewer", json={"queue": "billing", "reason": "money matters"}
    )
    assert moved.status_code == 200 and moved.json()["queue"] == "billing"
    assert api.post(f"{path}/reassign", "reviewer", json={"queue": "x"}).status_code == 422
    action = {"tool": "route_ticket", "arguments": {"queue": "billing"}}
    done = api.post(f"{path}/resolve", "router-bot", json={"action": action, "note": "done"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolved_by"]) == ("resolved", "router-bot")
    assert store.get_outcome(ids[-1]).actor == "router-bot"
    again = api.post(f"{path}/resolve", "reviewer", json={"action": None})
    assert again.status_code == 409
    assert api.post("/api/handoffs/hof_nope/claim", "reviewer").status_code == 404
    bad = api.post(f"{path}/resolve", "admin", json={"action": {"arguments": {}}})
    assert bad.status_code in (400, 409)
