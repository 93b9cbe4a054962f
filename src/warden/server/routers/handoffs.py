"""The human queue: handoff packets of runs handed to people, newest first, a page at a
time (``routers.cursors``), and their lifecycle: claim, resolve (the person's action
becomes the run's outcome) and reassign, each for reviewers (409 on a conflicting state).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from warden.control import handoffs as lifecycle
from warden.core.runs import Handoff
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.bodies import Reason
from warden.server.deps import ServerContext, context, deny_other_agent, require
from warden.server.routers import OPERATIONS_TAG
from warden.server.routers.cursors import MAX_LIMIT, Page, decode_cursor, encode_cursor, page_of

router = APIRouter(tags=[OPERATIONS_TAG, "human queue"])


def _cursor(h: Handoff) -> str:
    return encode_cursor(h.created_at, h.id)


@router.get("/api/handoffs", response_model=Page[Handoff])
def list_handoffs(
    queue: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> Page[Handoff]:
    """Handoff packets in the human queues, newest first, ``limit`` per page (``status``:
    e.g. ``open``; a token bound to an agent sees that agent's only). ``next_cursor`` is
    the ``cursor`` of the next page."""
    after = decode_cursor(cursor, str) if cursor else None
    rows = ctx.store.list_handoffs(
        queue,
        status=status,
        agent=who.agent,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    return page_of(rows, limit, _cursor)


class ResolveBody(BaseModel):
    """What the person did (recorded as the run's outcome) and their note."""

    action: Any = None
    """``null`` (nothing), a tool name, ``{"tool": ..., "arguments": {...}}`` or a list."""
    note: Annotated[str, Field(max_length=2000)] = ""


class ReassignBody(BaseModel):
    """Where the packet goes, and why (audited)."""

    queue: Annotated[str, Field(min_length=1, max_length=128)]
    reason: Reason


def _mine(handoff_id: str, request: Request, ctx: ServerContext, who: Principal) -> Handoff:
    """The packet, if ``who`` may act on its agent (404 unknown, 403 another agent's)."""
    found = ctx.store.get_handoff(handoff_id)
    if found is None:
        raise NotFoundError(f"no handoff {handoff_id!r}")
    deny_other_agent(ctx, request, who, found.agent)
    return found


@router.post("/api/handoffs/{handoff_id}/claim", response_model=Handoff)
def claim(
    handoff_id: str,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> Handoff:
    """Take a packet off its queue (reviewer); 409 when someone else holds it or it is
    resolved."""
    _mine(handoff_id, request, ctx, who)
    return lifecycle.claim(ctx.store, handoff_id, actor=who.actor, clock=ctx.clock)


@router.post("/api/handoffs/{handoff_id}/resolve", response_model=Handoff)
def resolve(
    handoff_id: str,
    body: ResolveBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> Handoff:
    """Close a packet with what the person did (reviewer); the action is recorded as the
    run's outcome. 409 when it is resolved already or someone else holds it."""
    _mine(handoff_id, request, ctx, who)
    done, _ = lifecycle.resolve(
        ctx.store, handoff_id, body.action, actor=who.actor, clock=ctx.clock, note=body.note
    )
    return done


@router.post("/api/handoffs/{handoff_id}/reassign", response_model=Handoff)
def reassign(
    handoff_id: str,
    body: ReassignBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> Handoff:
    """Send a packet to another queue, open and unclaimed (reviewer); 409 when resolved."""
    _mine(handoff_id, request, ctx, who)
    return lifecycle.reassign(
        ctx.store, handoff_id, body.queue, actor=who.actor, clock=ctx.clock, reason=body.reason
    )
