"""``routers/rollout.py`` (with the ``routers/outcomes.py`` it reads): the gate holds with
too few compared runs, an outcome recorded through the API is compared with the agent,
advancing is refused (409) until the gate passes, rolling back needs an operator."""

from __future__ import annotations

from warden.core.clock import SystemClock


def test_rollout_outcomes_and_gates_through_the_api(
    api, make_governor, spec_factory, store
) -> None:
    from tests.server.conftest import ROUTER_TOOLS

    spec = spec_factory(
        ROUTER_TOOLS, rollout={"shadow": {"min_runs": 50, "min_agreement": 0.8, "min_days": 1}}
    )
    gov = make_governor(spec, clock=SystemClock())

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return queue

    with gov.run(input="my card", routing_key="cust-1") as run:
        assert run.mode.value == "shadow"
        run.call("route_ticket", ticket_id="t1", queue="cards")
        run.resolve()
    gov.flush()
    status = api.get("/api/agents/test-agent/rollout").json()
    assert status["stage"] == "shadow"
    gate = status["gate"]
    assert gate["status"] != "pass"
    checks = {c["name"]: c["status"] for c in gate["checks"]}
    assert "inconclusive" in checks.values()  # 0 of 50 compared runs: too few, holds
    outcome = api.post(
        "/api/agents/test-agent/outcomes",
        "reviewer",
        json={
            "key": "cust-1",
            "action": {"tool": "route_ticket", "arguments": {"ticket_id": "t1", "queue": "cards"}},
        },
    )
    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["agreed"] is True
    assert (
        api.post(
            "/api/agents/test-agent/outcomes", "viewer", json={"key": "cust-1", "action": None}
        ).status_code
        == 403
    )
    blocked = api.post(
        "/api/agents/test-agent/rollout/advance", "operator", json={"reason": "looks good"}
    )
    assert blocked.status_code == 409  # the gate does not pass on one run
    assert api.get("/api/agents/test-agent/rollout").json()["stage"] == "shadow"
    assert (
        api.post(
            "/api/agents/test-agent/rollout/rollback", "reviewer", json={"reason": "x"}
        ).status_code
        == 403
    )
    back = api.post(
        "/api/agents/test-agent/rollout/rollback", "operator", json={"reason": "bad proposals"}
    )
    assert back.status_code == 200
    assert back.json()["stage"] == "rolled_back"
