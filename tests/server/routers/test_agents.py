"""``routers/agents.py``: the fleet, one agent with its spec, daily numbers, readiness and
spec versions."""

from __future__ import annotations


def test_agents_with_their_spec_numbers_readiness_and_versions(api, seeded) -> None:
    seeded()
    agents = api.get("/api/agents").json()
    assert [a["agent"] for a in agents] == ["test-agent"]
    a = agents[0]
    assert a["owner"] == "alice@example.com"
    assert a["runs_today"] == 5
    assert a["health"] in ("red", "amber", "green")
    assert a["kill_switch"]["engaged"] is False
    detail = api.get("/api/agents/test-agent").json()
    assert detail["spec"]["spec"]["tools"]["issue_refund"]["access"] == "blocked"
    assert len(api.get("/api/agents/test-agent/daily?days=7").json()) == 7
    assert api.get("/api/agents/test-agent/readiness").json()["items"]
    assert len(api.get("/api/agents/test-agent/spec-versions").json()) == 1
    assert api.get("/api/agents/nobody").status_code == 404
