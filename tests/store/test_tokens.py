"""API tokens on the database under test: found by hash until revoked; creating and
revoking are audited without the hash."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from warden.core.clock import FakeClock
from warden.core.tokens import ApiToken, Role, hash_token
from warden.errors import NotFoundError
from warden.store import SqlStore


def test_a_revoked_token_is_no_longer_found(store: SqlStore, clock: FakeClock) -> None:
    token = ApiToken(
        id="t1",
        name="ci",
        role=Role.OPERATOR,
        agent="a",
        token_hash=hash_token("wdn_t1_secret"),
        created_at=clock.now(),
        created_by="alice",
    )
    store.create_token(token)
    assert store.find_token(hash_token("wdn_t1_secret")) == token
    assert store.find_token(hash_token("wdn_t1_other")) is None
    later = clock.now() + timedelta(hours=1)
    revoked = store.revoke_token("t1", later, actor="bob")
    assert revoked.revoked_at == later
    again = store.revoke_token("t1", later + timedelta(hours=1), actor="bob")
    assert again.revoked_at == later  # idempotent: the first revocation stands
    assert store.find_token(hash_token("wdn_t1_secret")) is None
    assert [t.id for t in store.list_tokens()] == ["t1"]
    with pytest.raises(NotFoundError):
        store.revoke_token("nope", later)
    entries = store.list_audit(agent="a")
    assert [(e.action, e.actor) for e in entries] == [
        ("token.created", "alice"),
        ("token.revoked", "bob"),
    ]
    assert "token_hash" not in json.loads(entries[0].after)
    assert store.verify_audit().intact
