"""The human queue: handoff packets of runs handed to people, newest first, a page at a
time (``routers.cursors``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warden.core.runs import Handoff
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require
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
