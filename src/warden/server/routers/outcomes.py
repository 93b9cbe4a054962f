"""Outcomes: what a person actually did for a run, compared with what the agent did or
proposed (the agreement the rollout gates read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from warden.control.outcomes import record_outcome
from warden.core.agreement import Outcome
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "outcomes"])


class OutcomeBody(BaseModel):
    """What a person actually did for a run."""

    key: Annotated[str, Field(min_length=1, max_length=256)]
    """Run id or routing key."""
    action: Any
    """The person's action: ``{"tool": ..., "arguments": {...}}``, a list of them, or null."""


@router.post("/api/agents/{agent}/outcomes", response_model=Outcome)
def post_outcome(
    agent: str,
    body: OutcomeBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> Outcome:
    """Record what a person actually did for a run (reviewer), compared with the agent."""
    return record_outcome(ctx.store, agent, body.key, body.action, actor=who.name, clock=ctx.clock)
