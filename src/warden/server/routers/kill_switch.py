"""The kill switch of an agent: read it, engage it, and turn the agent back on.

Engaging needs one operator; turning the agent back on needs two different people (the
first call asks, the second approves and releases). Each act is recorded in the audit log
by the store.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from warden.control.killswitch import UnkillResult
from warden.control.killswitch import unkill as release_switch
from warden.core.killswitch import KillSwitchState
from warden.core.tokens import Principal, Role
from warden.server.bodies import ReasonBody
from warden.server.deps import ServerContext, context, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "kill switch"])


@router.get("/api/agents/{agent}/kill-switch", response_model=KillSwitchState)
def get_kill_switch(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> KillSwitchState:
    """The agent's kill switch."""
    return ctx.store.get_kill_switch(agent)


@router.post("/api/agents/{agent}/kill", response_model=KillSwitchState)
def kill(
    agent: str,
    body: ReasonBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> KillSwitchState:
    """Engage the kill switch (operator): new and in-flight runs stop before their next call.
    Idempotent."""
    return ctx.store.set_kill_switch(
        agent, engaged=True, reason=body.reason, actor=who.name, at=ctx.clock.now()
    )


@router.post("/api/agents/{agent}/unkill", response_model=UnkillResult)
def unkill(
    agent: str,
    body: ReasonBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> UnkillResult:
    """Turn the agent back on (operator): the first call asks, a call by a different
    person (another token's name) approves and releases (``pending`` says which happened)."""
    return release_switch(
        ctx.store, agent, actor=who.actor, reason=body.reason, clock=ctx.clock, principal=who.key
    )
