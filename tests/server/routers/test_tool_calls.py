"""``routers/tool_calls.py``: tool calls across runs, filtered, each with its decision."""

from __future__ import annotations


def test_tool_calls_with_their_decisions(api, seeded) -> None:
    seeded()
    denied = api.get("/api/tool-calls?status=denied").json()["items"]
    assert [c["tool"] for c in denied] == ["issue_refund", "issue_refund"]
    assert all(c["decision"]["rule"] == "access" for c in denied)
    routed = api.get("/api/tool-calls?agent=test-agent&tool=route_ticket").json()["items"]
    assert len(routed) == 3
    assert api.get("/api/tool-calls?agent=nobody").json()["items"] == []
    assert api.get("/api/tool-calls?status=bogus").status_code == 422
