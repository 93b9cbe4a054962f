"""``warden token create|list|revoke``: lifetimes (90 days for agent tokens by default),
bad lifetimes refused with exit 2, and the list shows expiry, last use and state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


def test_agent_token_expires_in_90_days_and_a_person_token_never(cli) -> None:
    agent = json.loads(cli("token", "create", "--role", "agent", "--agent", "bot", "--json").stdout)
    ends = datetime.fromisoformat(agent["expires_at"])
    assert abs(ends - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
    person = json.loads(cli("token", "create", "--role", "viewer", "--json").stdout)
    assert person["expires_at"] is None
    shown = cli("token", "create", "--role", "agent", "--agent", "bot", "--expires-in-days", "0")
    assert "never expires" in shown.output


def test_a_negative_lifetime_exits_2(cli, store) -> None:
    result = cli("token", "create", "--role", "viewer", "--expires-in-days", "-3")
    assert result.exit_code == 2
    assert "0 (never) to 36,500 days" in result.output
    assert store.list_tokens() == []


def test_the_list_shows_expiry_last_use_and_state(cli, store) -> None:
    created = json.loads(cli("token", "create", "--role", "viewer", "--json").stdout)
    store.revoke_token(created["id"], datetime.now(UTC))
    from warden.core.tokens import ApiToken, Role

    store.create_token(
        ApiToken(
            id="old",
            name="bot",
            role=Role.AGENT,
            agent="bot",
            token_hash="0" * 64,
            created_at=datetime.now(UTC) - timedelta(days=91),
            created_by="test",
            expires_at=datetime.now(UTC) - timedelta(days=1),
        )
    )
    listed = cli("token", "list").output
    assert "revoked" in listed and "expired" in listed
    rows = json.loads(cli("token", "list", "--json").stdout)
    assert {"expires_at", "last_used_at"} <= rows[0].keys()
