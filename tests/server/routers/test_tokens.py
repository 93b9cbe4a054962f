"""``routers/tokens.py``: tokens are admin only, the secret is shown once, a revoked token
stops working."""

from __future__ import annotations


def test_tokens_are_admin_only_and_shown_once(api, store) -> None:
    assert api.get("/api/tokens", "owner").status_code == 403
    created = api.post("/api/tokens", "admin", json={"name": "ci", "role": "viewer"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("wdn_")
    listed = api.get("/api/tokens", "admin").json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert (
        api.client.get("/api/agents", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    api.client.delete(f"/api/tokens/{created.json()['id']}", headers=api.as_("admin"))
    assert (
        api.client.get("/api/agents", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def _mint(store, *, role, agent=None, expires_at=None, name="tok"):
    from warden.core.clock import SystemClock
    from warden.core.tokens import ApiToken, hash_token, new_token

    token_id, secret = new_token()
    store.create_token(
        ApiToken(
            id=token_id,
            name=name,
            role=role,
            agent=agent,
            token_hash=hash_token(secret),
            created_at=SystemClock().now(),
            created_by="test",
            expires_at=expires_at,
        )
    )
    return token_id, secret


def test_agent_tokens_expire_in_90_days_by_default_and_people_never(api) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    agent = api.post(
        "/api/tokens", "admin", json={"name": "bot", "role": "agent", "agent": "test-agent"}
    ).json()
    assert abs(datetime.fromisoformat(agent["expires_at"]) - (now + timedelta(days=90))) < (
        timedelta(minutes=1)
    )
    person = api.post("/api/tokens", "admin", json={"name": "dana", "role": "viewer"}).json()
    assert person["expires_at"] is None
    short = api.post(
        "/api/tokens",
        "admin",
        json={"name": "b2", "role": "agent", "agent": "test-agent", "expires_in_days": 1},
    ).json()
    assert datetime.fromisoformat(short["expires_at"]) < now + timedelta(days=1, minutes=1)
    never = api.post(
        "/api/tokens",
        "admin",
        json={"name": "b3", "role": "agent", "agent": "test-agent", "expires_in_days": 0},
    ).json()
    assert never["expires_at"] is None
    bad = api.post(
        "/api/tokens", "admin", json={"name": "b4", "role": "viewer", "expires_in_days": -1}
    )
    assert bad.status_code == 422


def test_an_expired_token_is_refused_and_the_refusal_audited(api, store) -> None:
    from datetime import UTC, datetime, timedelta

    from warden.core.tokens import Role

    token_id, secret = _mint(
        store,
        role=Role.AGENT,
        agent="test-agent",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    r = api.client.get(
        "/api/agents/test-agent/kill-switch", headers={"Authorization": f"Bearer {secret}"}
    )
    assert r.status_code == 401
    assert "expired" in r.json()["error"]["message"]
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert denied and denied[-1].reason == f"token {token_id} expired"


def test_last_used_at_is_kept_to_the_minute(api, store) -> None:
    from warden.core.tokens import Role

    token_id, secret = _mint(store, role=Role.VIEWER)

    def last_used():
        return next(t for t in store.list_tokens() if t.id == token_id).last_used_at

    assert last_used() is None
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/agents", headers=headers).status_code == 200
    first = last_used()
    assert first is not None
    assert api.client.get("/api/agents", headers=headers).status_code == 200
    assert last_used() == first  # not a write per request
    listed = {t["id"]: t for t in api.get("/api/tokens", "admin").json()}
    assert listed[token_id]["last_used_at"] is not None
