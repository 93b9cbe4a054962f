"""Scope changes: applied and pending spec changes, and an owner's approval of a pending
scope expansion (audited by the store)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from warden.control.scope import approve_spec
from warden.core.scope import SpecChange
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.bodies import ReasonBody
from warden.server.deps import ServerContext, context, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "scope changes"])


@router.get("/api/spec-changes", response_model=list[SpecChange])
def list_spec_changes(
    agent: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[SpecChange]:
    """Applied and pending spec changes with their classification."""
    return [c for c in ctx.store.list_spec_changes(agent) if who.may_act_on(c.agent)]


@router.post("/api/agents/{agent}/spec-changes/{ref}/approve", response_model=SpecChange)
def approve_change(
    agent: str,
    ref: str,
    body: ReasonBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OWNER)),
) -> SpecChange:
    """Approve a pending scope expansion (owner role; the token's name must be an owner or
    backup owner of the agent, other than the person who applied it)."""
    if not any(c.agent == agent for c in ctx.store.find_spec_changes(ref)):
        raise NotFoundError(f"no change {ref!r} of {agent}")
    return approve_spec(
        ctx.store, ref, actor=who.actor, clock=ctx.clock, reason=body.reason, principal=who.key
    )
