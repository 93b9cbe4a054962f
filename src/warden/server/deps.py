"""Request dependencies: the store, the clock, and who is asking (with their role).

A request is authenticated by ``Authorization: Bearer <token>`` or, for the dashboard, the
``warden_token`` cookie. With auth off (``warden serve --no-auth``, loopback only) every
request acts as a local admin. A missing, unknown or expired token is 401 (a valid one's
``last_used_at`` is kept to the minute), too low a role or a
token bound to another agent is 403; both are JSON and both are written to the audit log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from warden.core.audit import AuditDraft
from warden.core.clock import Clock
from warden.core.tokens import Principal, Role, hash_token
from warden.errors import ConfigError, StoreUnavailable
from warden.store import SqlStore

__all__ = [
    "COOKIE",
    "TOUCH_EVERY_S",
    "ServerContext",
    "audit_denial",
    "authenticate",
    "context",
    "deny_other_agent",
    "principal",
    "require",
]

COOKIE = "warden_token"

TOUCH_EVERY_S = 60.0
"""A token's ``last_used_at`` is written at most this often (seconds), not per request."""


@dataclass
class ServerContext:
    """What every request needs.

    Attributes:
        store: The store.
        clock: Time source.
        auth: Whether tokens are required.
    """

    store: SqlStore
    clock: Clock
    auth: bool = True


def context(request: Request) -> ServerContext:
    """The app's ``ServerContext``."""
    ctx: ServerContext = request.app.state.warden
    return ctx


def audit_denial(
    ctx: ServerContext, request: Request, who: str, why: str, agent: str | None
) -> None:
    """Write a refused request (401/403) to the audit log; never fails the response."""
    # The request is refused either way; the record must not fail on an odd path.
    with contextlib.suppress(StoreUnavailable, ConfigError):
        ctx.store.append_audit(
            AuditDraft(
                at=ctx.clock.now(),
                actor=who,
                action="api.denied",
                agent=agent,
                subject=f"{request.method} {request.url.path}"[:128],
                reason=why,
            )
        )


def principal(request: Request, ctx: ServerContext = Depends(context)) -> Principal:
    """Who is asking.

    Raises:
        HTTPException: 401 without a valid token.
    """
    if not ctx.auth:
        return Principal(name="local", role=Role.ADMIN)
    header = request.headers.get("authorization", "")
    token = (
        header[7:].strip()
        if header.lower().startswith("bearer ")
        else request.cookies.get(COOKIE, "")
    )
    return authenticate(ctx, request, token)


def authenticate(ctx: ServerContext, request: Request, token: str) -> Principal:
    """The principal a token stands for (also the dashboard's login form).

    Raises:
        HTTPException: 401 (audited) when the token is empty, unknown or revoked.
    """
    found = ctx.store.find_token(hash_token(token)) if token else None
    if found is None:
        audit_denial(ctx, request, "anonymous", "missing or unknown token", None)
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    now = ctx.clock.now()
    if found.expired(now):
        audit_denial(ctx, request, found.name, f"token {found.id} expired", found.agent)
        raise HTTPException(
            401,
            f"token {found.id} expired at {found.expires_at:%Y-%m-%d %H:%M} UTC; ask an admin "
            "for a new one",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    last = found.last_used_at
    if last is None or (now - last).total_seconds() >= TOUCH_EVERY_S:
        # Best effort: a store that cannot take the write must not refuse a valid token.
        with contextlib.suppress(StoreUnavailable):
            ctx.store.touch_token(found.id, now)
    return Principal(name=found.name, role=found.role, agent=found.agent, token_id=found.id)


def require(role: Role, *, agents: bool = False) -> Callable[..., Principal]:
    """A dependency that lets only ``role`` and above through (403 otherwise).

    Agent tokens (role ``agent``) are below every person's role: they pass only where
    ``agents`` is true (writing their own runs, the runtime port), and always only for
    their own agent. A route with an ``agent`` path parameter also refuses tokens bound
    to another agent.
    """

    def check(
        request: Request,
        who: Principal = Depends(principal),
        ctx: ServerContext = Depends(context),
    ) -> Principal:
        agent = request.path_params.get("agent")
        allowed = (agents and who.is_agent) or (not who.is_agent and who.role.at_least(role))
        if not allowed:
            why = (
                "an agent token reaches only the runtime port and its own runs' records"
                if who.is_agent
                else f"needs role {role.value}, token has {who.role.value}"
            )
            audit_denial(ctx, request, who.name, why, agent)
            raise HTTPException(403, why)
        if agent is not None and not who.may_act_on(agent):
            why = f"token is bound to agent {who.agent}"
            audit_denial(ctx, request, who.name, why, agent)
            raise HTTPException(403, why)
        return who

    return check


def deny_other_agent(ctx: ServerContext, request: Request, who: Principal, agent: str) -> None:
    """Refuse (403, audited) when ``who`` is bound to an agent other than ``agent``."""
    if not who.may_act_on(agent):
        why = f"token is bound to agent {who.agent}, not {agent}"
        audit_denial(ctx, request, who.name, why, agent)
        raise HTTPException(403, why)
