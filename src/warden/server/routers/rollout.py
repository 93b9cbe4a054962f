"""An agent's rollout: its status (stage, gate, agreement, transitions), advancing to the
next stage when the gate passes, and rolling back. Stage changes are audited by the store."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from warden.control.gates import gate_check
from warden.control.rollout import change_stage, rollout_status
from warden.core.rollout import RolloutAction, RolloutState, Stage
from warden.core.status import RolloutStatus
from warden.core.tokens import Principal, Role
from warden.server.bodies import Reason
from warden.server.deps import ServerContext, context, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "rollout"])


class AdvanceBody(BaseModel):
    """Why, and optionally the rollout version you looked at (compare-and-set)."""

    reason: Reason
    expected_version: int | None = None


@router.get("/api/agents/{agent}/rollout", response_model=RolloutStatus)
def get_rollout(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> RolloutStatus:
    """Stage, gate (with each check), agreement and recent transitions."""
    return rollout_status(ctx.store, agent, ctx.clock)


def _change(
    agent: str,
    action: RolloutAction,
    body: AdvanceBody,
    ctx: ServerContext,
    who: Principal,
    check: Callable[[RolloutState, Stage], None] | None = None,
) -> RolloutState:
    """Advance or roll back ``agent`` as ``who`` (what both stage-changing routes do).

    Args:
        agent: The agent.
        action: Advance or roll back.
        body: The reason and the rollout version the caller looked at.
        ctx: The request's context.
        who: Who asks (recorded as the actor).
        check: The gate an advance must pass (None: no gate).
    """
    return change_stage(
        ctx.store,
        agent,
        action,
        actor=who.name,
        reason=body.reason,
        clock=ctx.clock,
        expected_version=body.expected_version,
        check=check,
    )


@router.post("/api/agents/{agent}/rollout/advance", response_model=RolloutState)
def advance(
    agent: str,
    body: AdvanceBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> RolloutState:
    """Advance to the next stage (operator) when the current stage's gate passes (409 if not)."""
    return _change(agent, RolloutAction.ADVANCE, body, ctx, who, gate_check(ctx.store, ctx.clock))


@router.post("/api/agents/{agent}/rollout/rollback", response_model=RolloutState)
def rollback(
    agent: str,
    body: AdvanceBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> RolloutState:
    """Roll back (operator): every run falls back until the agent starts again in shadow."""
    return _change(agent, RolloutAction.ROLLBACK, body, ctx, who)
