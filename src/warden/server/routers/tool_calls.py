"""Tool calls across runs, each with its policy decision (e.g. every call the policy
stopped), newest first, a page at a time (``routers.cursors``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warden.core.runs import ToolCallRecord, ToolCallStatus
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require
from warden.server.routers.cursors import MAX_LIMIT, Page, decode_cursor, encode_cursor, page_of

router = APIRouter(tags=["runs"])


def _cursor(call: ToolCallRecord) -> str:
    return encode_cursor(call.started_at, call.run_id, call.seq)


@router.get("/api/tool-calls", response_model=Page[ToolCallRecord])
def list_tool_calls(
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
    agent: str | None = None,
    tool: str | None = None,
    status: ToolCallStatus | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> Page[ToolCallRecord]:
    """Tool calls with their policy decisions, newest first, ``limit`` per page: e.g.
    ``status=denied`` for every call the policy stopped (a token bound to an agent sees
    that agent's only). ``next_cursor`` is the ``cursor`` of the next page."""
    after = decode_cursor(cursor, str, int) if cursor else None
    rows = ctx.store.list_tool_calls(
        agent=who.agent or agent,
        tool=tool,
        status=status,
        since=since,
        after=(after[0], after[1], after[2]) if after else None,
        limit=limit + 1,
    )
    return page_of(rows, limit, _cursor)
