"""Writing runs (remote SDK mode): batches of the same events a local store receives.

``check_events_belong`` is also the ownership check of ``/api/rpc``'s ``apply``
(``routers.store_rpc``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
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
from warden.server.deps import ServerContext, context, require

router = APIRouter(tags=["runs"])


class EventsAccepted(BaseModel):
    """How many events were stored."""

    accepted: int
    runs: list[str] = Field(default_factory=list[str])


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
