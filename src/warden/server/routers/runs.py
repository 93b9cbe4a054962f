"""Runs: the list with filters and a keyset cursor, and one run with its steps and its
decision trail in plain language.

Tool calls across runs: ``routers.tool_calls``; writing runs (remote SDK mode):
``routers.events``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from warden.core.explain import explain_run
from warden.core.runs import RunDetail, RunFilter, RunMode, RunRecord, RunStatus
from warden.core.tokens import Principal, Role
from warden.errors import ConfigError, NotFoundError
from warden.server.deps import ServerContext, context, deny_other_agent, require

router = APIRouter(tags=["runs"])


class RunPage(BaseModel):
    """One page of runs, newest first."""

    items: list[RunRecord]
    next_cursor: str | None = None
    """Pass as ``cursor`` for the next page; None on the last page."""


class RunExplained(BaseModel):
    """A run with its steps and its decision trail in plain language."""

    detail: RunDetail
    story: list[str]


def _encode(run: RunRecord) -> str:
    raw = json.dumps([run.started_at.isoformat(), run.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, rid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(rid)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a cursor from this API: {cursor!r}") from exc


@router.get("/api/runs", response_model=RunPage)
def list_runs(
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
    agent: str | None = None,
    status: RunStatus | None = None,
    mode: RunMode | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    denied_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RunPage:
    """Runs matching the filters, newest first, ``limit`` per page (a token bound to an
    agent sees that agent's runs only)."""
    if who.agent is not None:
        agent = who.agent
    where = RunFilter(
        agent=agent,
        status=status,
        mode=mode,
        since=since,
        until=until,
        denied_only=denied_only,
        after=_decode(cursor) if cursor else None,
        limit=limit + 1,
    )
    rows = ctx.store.list_runs(where)
    more = len(rows) > limit
    items = rows[:limit]
    return RunPage(items=items, next_cursor=_encode(items[-1]) if more and items else None)


@router.get("/api/runs/{run_id}", response_model=RunExplained)
def get_run(
    run_id: str,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> RunExplained:
    """One run: input, every step with its policy decision, the output and why it ended."""
    detail = ctx.store.get_run(run_id)
    if detail is None:
        raise NotFoundError(f"no run {run_id!r}")
    deny_other_agent(ctx, request, who, detail.run.agent)
    return RunExplained(detail=detail, story=explain_run(detail))
