"""Request dependencies (``server/deps.py``): a request without a valid token is refused
with a JSON 401, and the refusal is audited."""

from __future__ import annotations


def test_no_token_is_401_json_and_audited(api, store) -> None:
    r = api.client.get("/api/agents")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.required"
    r = api.client.get("/api/agents", headers={"Authorization": "Bearer wdn_nope_nope"})
    assert r.status_code == 401
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert len(denied) == 2
    assert denied[0].subject == "GET /api/agents"
