"""API tokens and roles.

A principal is a person (a personal token) or an agent (an agent token).

People's roles are ordered ``viewer < reviewer < operator < owner < admin``: each can do
what the ones before it can. A person's token may be bound to one agent: it then acts only
on that agent.

An **agent token** (role ``agent``, always bound to its agent) is what an agent's own
process uses (remote SDK mode, OTLP export): it reaches the runtime port (``/api/rpc``,
scoped to its agent and its own runs), writes its own runs' records and traces, and
nothing else. It is below every person's role: it never decides approvals, changes
stages, applies or approves specs, releases a kill switch, or reads other agents' data.

Tokens are shown once, when created, and stored as a SHA-256 hash: ``wdn_<id>_<secret>``,
where only the hash of the whole token is kept. Agent tokens expire after
``AGENT_TOKEN_DAYS`` (90) days unless created with another lifetime; people's tokens
never expire unless given one. Each token records when it was last used.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, model_validator

__all__ = [
    "AGENT_TOKEN_DAYS",
    "ROLE_ORDER",
    "ApiToken",
    "Principal",
    "Role",
    "TokenStore",
    "expiry",
    "hash_token",
    "new_token",
]

AGENT_TOKEN_DAYS = 90
"""Default lifetime of an agent token, in days: a leaked agent credential dies on its own."""


class Role(StrEnum):
    """What a token may do (each person's role includes the ones before it)."""

    AGENT = "agent"
    """An agent's own process: the runtime port and its own runs' records only."""
    VIEWER = "viewer"
    """Read everything: agents, runs, decisions, queues, audit log."""
    REVIEWER = "reviewer"
    """Also decide approvals and work the human queue; record outcomes."""
    OPERATOR = "operator"
    """Also flip the kill switch, advance or roll back a rollout."""
    OWNER = "owner"
    """Also approve scope expansions of the agents they own."""
    ADMIN = "admin"
    """Everything, including tokens."""

    def at_least(self, other: Role) -> bool:
        """True when this role includes ``other``."""
        return ROLE_ORDER[self] >= ROLE_ORDER[other]


ROLE_ORDER = {
    Role.AGENT: -1,
    Role.VIEWER: 0,
    Role.REVIEWER: 1,
    Role.OPERATOR: 2,
    Role.OWNER: 3,
    Role.ADMIN: 4,
}


class ApiToken(BaseModel):
    """A stored token (never the secret itself)."""

    id: str
    name: str
    role: Role
    agent: str | None = None
    """When set, the token acts on this agent only."""
    token_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    """After this instant the token is refused (401); None: it never expires."""
    last_used_at: datetime | None = None
    """When a request last authenticated with it (updated at most once a minute)."""

    def expired(self, now: datetime) -> bool:
        """True once ``expires_at`` has passed."""
        return self.expires_at is not None and now >= self.expires_at

    @model_validator(mode="after")
    def _agent_tokens_name_their_agent(self) -> ApiToken:
        if self.role is Role.AGENT and not self.agent:
            raise ValueError("an agent token must be bound to its agent (--agent NAME)")
        return self


class Principal(BaseModel):
    """Who is acting: a token's person or agent, or the OS user of the local CLI.

    Two-person rules (releasing a kill switch, approving a scope expansion) compare
    ``key``, never the ``label``: one principal cannot act as two by relabelling itself.
    """

    name: str
    """The token's name (a person's name or address, or the agent's), or the OS user."""
    role: Role
    agent: str | None = None
    token_id: str | None = None
    os_user: bool = False
    """True on the local CLI: ``name`` is the operating-system user running it."""
    label: str | None = None
    """How the act is labelled in records (``WARDEN_ACTOR`` on the CLI); ``name`` if None."""

    @property
    def key(self) -> str:
        """The identity two-person rules compare: ``os:<user>`` on the local CLI,
        ``token:<name>`` for a token (a person's tokens share their name)."""
        return f"os:{self.name}" if self.os_user else f"token:{self.name}"

    @property
    def actor(self) -> str:
        """The name written into records: the label, else the name."""
        return self.label or self.name

    @property
    def is_agent(self) -> bool:
        """True for an agent's own token (role ``agent``)."""
        return self.role is Role.AGENT

    def may_act_on(self, agent: str) -> bool:
        """True unless the principal is bound to another agent."""
        return self.agent is None or self.agent == agent


def expiry(role: Role, created_at: datetime, days: float | None = None) -> datetime | None:
    """When a new token expires.

    Args:
        role: The token's role.
        created_at: When it is created.
        days: Its lifetime in days; ``0`` never expires; None takes the role's default
            (``AGENT_TOKEN_DAYS`` for agent tokens, never for people's).

    Raises:
        ValueError: ``days`` is negative or not finite.
    """
    if days is None:
        days = AGENT_TOKEN_DAYS if role is Role.AGENT else 0
    if not 0 <= days < 36_500:
        raise ValueError(f"a token lifetime must be 0 (never) to 36,500 days, not {days}")
    return created_at + timedelta(days=days) if days else None


def hash_token(token: str) -> str:
    """SHA-256 hex of the whole token string."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh ``(token id, token)``; the token carries 256 bits of randomness."""
    token_id = secrets.token_hex(6)
    return token_id, f"wdn_{token_id}_{secrets.token_urlsafe(32)}"


class TokenStore(Protocol):
    """Where API tokens live (hashed)."""

    def create_token(self, token: ApiToken) -> ApiToken:
        """Store a new token."""
        ...

    def find_token(self, token_hash: str) -> ApiToken | None:
        """The unrevoked token with this hash, or None."""
        ...

    def list_tokens(self) -> list[ApiToken]:
        """Every token, newest first (hashes included, never secrets)."""
        ...

    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        """Revoke a token. Raises ``NotFoundError``."""
        ...

    def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that the token was used at ``at`` (not audited)."""
        ...
