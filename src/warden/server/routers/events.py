"""Writing runs (remote SDK mode): batches of the same events a local store receives.

``check_events_belong`` is also the ownership check of ``/api/rpc``'s ``apply``
(``routers.store_rpc``).
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Body, Depends, HTTPException, Request
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
from warden.core.tokens import Principal, Role
from warden.errors import ConfigError
from warden.server.deps import ServerContext, audit_denial, context, require

router = APIRouter(tags=["runs"])


class EventsAccepted(BaseModel):
    """How many events were stored."""

    accepted: int
    runs: list[str] = Field(default_factory=list[str])


@router.post("/api/agents/{agent}/events", response_model=EventsAccepted)
def write_events(
    agent: str,
    request: Request,
    events: Annotated[list[Event], Body(max_length=5000)],
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER, agents=True)),
) -> EventsAccepted:
    """Store a batch of run records of ``agent`` (what a remote SDK's recorder sends).

    Every record must belong to ``agent``: a run it names must be in the batch for that
    agent and not stored for another, or already stored for it (403 otherwise, nothing
    written). Records of a run that has already ended are final: the store keeps an ended
    run's state and its ended tool calls as first recorded. Applying a batch twice is
    harmless (upserts).
    """
    try:
        mine = check_events_belong(ctx, agent, events)
    except HTTPException as exc:
        audit_denial(ctx, request, who.name, str(exc.detail), agent)
        raise
    ctx.store.apply(events)
    return EventsAccepted(accepted=len(events), runs=sorted(mine))


def check_events_belong(ctx: ServerContext, agent: str, events: list[Event]) -> set[str]:
    """The run ids ``events`` touch, after checking each belongs to ``agent``.

    Each run is looked up in the store, whatever the batch says about it: a run record
    claiming ``agent`` for a run id stored for another agent is refused like any other
    record of that run.

    Raises:
        ConfigError: The batch names another agent for a run, or a run never recorded (400).
        HTTPException: 403 for a record of a run stored for another agent.
    """
    claimed: set[str] = set()
    for e in events:
        if isinstance(e, RunRecorded):
            if e.run.agent != agent:  # the batch contradicts itself: malformed
                raise ConfigError(f"run {e.run.id} belongs to {e.run.agent}, not {agent}")
            claimed.add(e.run.id)
    touched = set(claimed)
    for e in events:
        if not isinstance(e, RunRecorded):
            touched.update(e.run_ids if isinstance(e, RunHeartbeat) else [_run_of(e)])
    for rid in sorted(touched):
        stored = ctx.store.get_run(rid)
        if stored is None:
            if rid not in claimed:
                raise ConfigError(f"run {rid} is not a run of {agent}: record the run first")
        elif stored.run.agent != agent:
            _refuse(f"run {rid} is a run of another agent, not {agent}")
    return touched


def _refuse(why: str) -> NoReturn:
    raise HTTPException(403, why)


def _run_of(event: Event) -> str:
    if isinstance(event, ToolCallRecorded | ModelCallRecorded):
        return event.call.run_id
    if isinstance(event, HandoffCreated):
        return event.handoff.run_id
    if isinstance(event, IdempotencyRecorded):
        return event.record.run_id
    raise ConfigError(f"unexpected event type {event.type}")
