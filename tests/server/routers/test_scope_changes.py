"""``routers/scope_changes.py``: spec changes listed (none before a new spec), and an
approval needs an owner and a change that exists."""

from __future__ import annotations


def test_no_spec_change_before_a_new_spec(api, seeded) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    assert api.get("/api/spec-changes").json() == []


def test_approving_a_scope_change_needs_an_owner_and_a_known_change(api) -> None:
    path = "/api/agents/test-agent/spec-changes/nope/approve"
    assert api.post(path, "operator", json={"reason": "ok"}).status_code == 403
    assert api.post(path, "owner", json={"reason": "ok"}).status_code == 404
