"""``routers/kill_switch.py``: engaging needs an operator (403 below, audited), turning the
agent back on needs two people, and every act needs a reason."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 403), ("reviewer", 403), ("operator", 200), ("admin", 200)]
)
def test_the_kill_switch_needs_operator(api, store, who: str, status: int) -> None:
    r = api.post("/api/agents/test-agent/kill", who, json={"reason": "refund spike"})
    assert r.status_code == status
    engaged = store.get_kill_switch("test-agent").engaged
    assert engaged is (status == 200)
    if status == 403:
        assert r.json()["error"]["code"] == "auth.forbidden"
        assert any(e.action == "api.denied" and e.actor == who for e in store.list_audit())
    else:
        assert store.get_kill_switch("test-agent").actor == who
        assert api.get("/api/agents/test-agent/kill-switch").json()["engaged"] is True
        asked = api.post("/api/agents/test-agent/unkill", who, json={"reason": "fixed"}).json()
        assert asked["state"]["engaged"] is True
        assert asked["pending"]["requested_by"] == who
        second = "admin" if who == "operator" else "operator"
        done = api.post("/api/agents/test-agent/unkill", second, json={"reason": "checked"}).json()
        assert done["state"]["engaged"] is False


def test_kill_switch_needs_a_reason(api) -> None:
    r = api.post("/api/agents/test-agent/kill", "operator", json={"reason": ""})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "request.invalid"


def test_two_tokens_of_one_person_are_one_person(api, store) -> None:
    """Two-person rules compare principals: a second token minted under the same name (the
    same person's laptop and dashboard) cannot approve that person's own release."""
    from warden.core.clock import SystemClock
    from warden.core.tokens import ApiToken, Role, hash_token, new_token

    token_id, secret = new_token()
    store.create_token(
        ApiToken(
            id=token_id,
            name="operator",
            role=Role.ADMIN,
            token_hash=hash_token(secret),
            created_at=SystemClock().now(),
            created_by="test",
        )
    )
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "refund spike"})
    api.post("/api/agents/test-agent/unkill", "operator", json={"reason": "fixed"})
    again = api.client.post(
        "/api/agents/test-agent/unkill",
        headers={"Authorization": f"Bearer {secret}"},
        json={"reason": "fixed, says my other token"},
    ).json()
    assert again["pending"]["requested_principal"] == "token:operator"
    assert store.get_kill_switch("test-agent").engaged
