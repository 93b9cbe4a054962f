"""Runs: list with filters and a keyset cursor, one run with its steps, and writing runs
(remote SDK mode: batches of the same events a local store receives)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from warden.core.events import (
    Event,
    HandoffCreated,
    IdempotencyRecorded,
    ModelCallRecorded,
    RunHeartbeat,
    RunRecorded,
    ToolCallRecorded,
)
from warden.core.explain import explain_run
from warden.core.runs import (
    RunDetail,
    RunFilter,
    RunMode,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
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


class EventsAccepted(BaseModel):
    """How many events were stored."""

    accepted: int
    runs: list[str] = Field(default_factory=list[str])


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


@router.post("/api/agents/{agent}/events", response_model=EventsAccepted)
def write_events(
    agent: str,
    events: Annotated[list[Event], Body(max_length=5000)],
    ctx: ServerContext = Depends(context),
    _: Principal = Depends(require(Role.REVIEWER)),
) -> EventsAccepted:
    """Store a batch of run records of ``agent`` (what a remote SDK's recorder sends).

    Every record must belong to ``agent``: a run it names must be in the batch or already
    stored for that agent. Applying a batch twice is harmless (upserts).
    """
    mine = check_events_belong(ctx, agent, events)
    ctx.store.apply(events)
    return EventsAccepted(accepted=len(events), runs=sorted(mine))


def check_events_belong(ctx: ServerContext, agent: str, events: list[Event]) -> set[str]:
    """The run ids ``events`` touch, after checking each belongs to ``agent``.

    A run must be recorded in the same batch for ``agent`` or already stored for it.

    Raises:
        ConfigError: A record of another agent's run.
    """
    mine = {e.run.id for e in events if isinstance(e, RunRecorded) and e.run.agent == agent}
    for e in events:
        if isinstance(e, RunRecorded):
            if e.run.agent != agent:
                raise ConfigError(f"run {e.run.id} belongs to {e.run.agent}, not {agent}")
            continue
        run_ids = e.run_ids if isinstance(e, RunHeartbeat) else [_run_of(e)]
        for rid in run_ids:
            if rid not in mine:
                stored = ctx.store.get_run(rid)
                if stored is None or stored.run.agent != agent:
                    raise ConfigError(f"run {rid} is not a run of {agent}")
                mine.add(rid)
    return mine


def _run_of(event: Event) -> str:
    if isinstance(event, ToolCallRecorded | ModelCallRecorded):
        return event.call.run_id
    if isinstance(event, HandoffCreated):
        return event.handoff.run_id
    if isinstance(event, IdempotencyRecorded):
        return event.record.run_id
    raise ConfigError(f"unexpected event type {event.type}")
