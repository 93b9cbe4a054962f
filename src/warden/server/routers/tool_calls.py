"""Tool calls across runs, each with its policy decision (e.g. every call the policy
stopped)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warden.core.runs import ToolCallRecord, ToolCallStatus
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require

router = APIRouter(tags=["runs"])


@router.get("/api/tool-calls", response_model=list[ToolCallRecord])
def list_tool_calls(
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
    agent: str | None = None,
    tool: str | None = None,
    status: ToolCallStatus | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ToolCallRecord]:
    """Tool calls with their policy decisions, newest first: e.g. ``status=denied`` for
    every call the policy stopped (a token bound to an agent sees that agent's only)."""
    return ctx.store.list_tool_calls(
        agent=who.agent or agent, tool=tool, status=status, since=since, limit=limit
    )
