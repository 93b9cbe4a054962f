"""``routers/summary.py``: fleet-wide counts after a kill-switch drill."""

from __future__ import annotations


def test_summary_counts_the_fleet(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    s = api.get("/api/metrics/summary").json()
    assert s["agents"] == 1
    assert s["killed_agents"] == ["test-agent"]
    assert s["runs_today"] == 5
