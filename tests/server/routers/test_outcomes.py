"""``routers/outcomes.py``: a person's action recorded for a run (by id or routing key) is
compared with what the agent did; it needs a reviewer of that agent. (The outcomes a
rollout gate reads: ``test_rollout.py``.)"""

from __future__ import annotations


def test_an_outcome_is_compared_with_what_the_agent_did(api, seeded) -> None:
    ids = seeded()
    human = {"tool": "route_ticket", "arguments": {"queue": "cards"}}
    ok = api.post(
        "/api/agents/test-agent/outcomes", "reviewer", json={"key": ids[0], "action": human}
    )
    assert ok.status_code == 200, ok.text
    outcome = ok.json()
    assert outcome["run_id"] == ids[0] and outcome["mode"] == "live"
    assert outcome["agreed"] is True and outcome["actor"] == "reviewer"
    by_key = api.post(
        "/api/agents/test-agent/outcomes", "reviewer", json={"key": "c1", "action": None}
    )
    assert by_key.json()["run_id"] == ids[1] and by_key.json()["agreed"] is False
    nobody = api.post(
        "/api/agents/test-agent/outcomes", "reviewer", json={"key": "nope", "action": None}
    )
    assert nobody.status_code == 404
    other = api.post(
        "/api/agents/test-agent/outcomes", "other-bot", json={"key": ids[0], "action": None}
    )
    assert other.status_code == 403
