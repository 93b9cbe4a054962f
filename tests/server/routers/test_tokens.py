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
