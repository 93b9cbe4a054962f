"""What operators and reviewers do: kill switch, approvals, human queue, outcomes,
incidents, rollout. Each act is recorded in the audit log by the store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from warden.control.gates import gate_check
from warden.control.killswitch import UnkillResult
from warden.control.killswitch import unkill as release_switch
from warden.control.outcomes import record_outcome
from warden.control.rollout import change_stage, rollout_status
from warden.control.scope import approve_spec
from warden.core.agreement import Outcome
from warden.core.incidents import Incident, IncidentStatus
from warden.core.killswitch import KillSwitchState
from warden.core.rollout import RolloutAction, RolloutState
from warden.core.runs import ApprovalRequest, ApprovalStatus, Handoff
from warden.core.scope import SpecChange
from warden.core.status import RolloutStatus
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.deps import ServerContext, context, deny_other_agent, require

router = APIRouter(tags=["operations"])

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class ReasonBody(BaseModel):
    """Why (recorded in the audit log)."""

    reason: Reason


class AdvanceBody(BaseModel):
    """Why, and optionally the rollout version you looked at (compare-and-set)."""

    reason: Reason
    expected_version: int | None = None


class OutcomeBody(BaseModel):
    """What a person actually did for a run."""

    key: Annotated[str, Field(min_length=1, max_length=256)]
    """Run id or routing key."""
    action: Any
    """The person's action: ``{"tool": ..., "arguments": {...}}``, a list of them, or null."""


# -- kill switch ---------------------------------------------------------------------------


@router.get("/api/agents/{agent}/kill-switch", response_model=KillSwitchState, tags=["kill switch"])
def get_kill_switch(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> KillSwitchState:
    """The agent's kill switch."""
    return ctx.store.get_kill_switch(agent)


@router.post("/api/agents/{agent}/kill", response_model=KillSwitchState, tags=["kill switch"])
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


@router.post("/api/agents/{agent}/unkill", response_model=UnkillResult, tags=["kill switch"])
def unkill(
    agent: str,
    body: ReasonBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> UnkillResult:
    """Turn the agent back on (operator): the first call asks, a call by a different
    person approves and releases (``pending`` says which happened)."""
    return release_switch(ctx.store, agent, actor=who.name, reason=body.reason, clock=ctx.clock)


# -- approvals and the human queue --------------------------------------------------------


@router.get("/api/approvals", response_model=list[ApprovalRequest], tags=["approvals"])
def list_approvals(
    status: ApprovalStatus | None = ApprovalStatus.PENDING,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[ApprovalRequest]:
    """Approval requests (pending by default), oldest first."""
    rows = ctx.store.list_approvals(status)
    return [a for a in rows if who.may_act_on(a.agent)]


def _decide(
    approval_id: str,
    status: ApprovalStatus,
    reason: str,
    request: Request,
    ctx: ServerContext,
    who: Principal,
) -> ApprovalRequest:
    found = ctx.store.get_approval(approval_id)
    if found is None:
        raise NotFoundError(f"no approval request {approval_id!r}")
    deny_other_agent(ctx, request, who, found.agent)
    return ctx.store.decide_approval(
        approval_id, status=status, actor=who.name, reason=reason, at=ctx.clock.now()
    )


@router.post(
    "/api/approvals/{approval_id}/approve", response_model=ApprovalRequest, tags=["approvals"]
)
def approve(
    approval_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> ApprovalRequest:
    """Approve a waiting call (reviewer); the run re-checks the policy and goes on."""
    return _decide(approval_id, ApprovalStatus.APPROVED, body.reason, request, ctx, who)


@router.post(
    "/api/approvals/{approval_id}/deny", response_model=ApprovalRequest, tags=["approvals"]
)
def deny(
    approval_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> ApprovalRequest:
    """Deny a waiting call (reviewer); it is never executed."""
    return _decide(approval_id, ApprovalStatus.DENIED, body.reason, request, ctx, who)


@router.get("/api/handoffs", response_model=list[Handoff], tags=["human queue"])
def list_handoffs(
    queue: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[Handoff]:
    """Handoff packets in the human queues, newest first."""
    return [h for h in ctx.store.list_handoffs(queue) if who.may_act_on(h.agent)]


# -- outcomes, incidents ------------------------------------------------------------------


@router.post("/api/agents/{agent}/outcomes", response_model=Outcome, tags=["outcomes"])
def post_outcome(
    agent: str,
    body: OutcomeBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> Outcome:
    """Record what a person actually did for a run (reviewer), compared with the agent."""
    return record_outcome(ctx.store, agent, body.key, body.action, actor=who.name, clock=ctx.clock)


@router.get("/api/incidents", response_model=list[Incident], tags=["incidents"])
def list_incidents(
    agent: str | None = None,
    status: IncidentStatus | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[Incident]:
    """Incidents (kill criteria that tripped), newest first."""
    return [i for i in ctx.store.list_incidents(agent, status=status) if who.may_act_on(i.agent)]


@router.post("/api/incidents/{incident_id}/ack", response_model=Incident, tags=["incidents"])
def ack_incident(
    incident_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> Incident:
    """Acknowledge an incident (operator)."""
    found = ctx.store.get_incident(incident_id)
    if found is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    deny_other_agent(ctx, request, who, found.agent)
    return ctx.store.update_incident(
        incident_id,
        actor=who.name,
        at=ctx.clock.now(),
        status=IncidentStatus.ACKNOWLEDGED,
        reason=body.reason,
    )


# -- rollout and scope changes ------------------------------------------------------------


@router.get("/api/agents/{agent}/rollout", response_model=RolloutStatus, tags=["rollout"])
def get_rollout(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> RolloutStatus:
    """Stage, gate (with each check), agreement and recent transitions."""
    return rollout_status(ctx.store, agent, ctx.clock)


@router.post("/api/agents/{agent}/rollout/advance", response_model=RolloutState, tags=["rollout"])
def advance(
    agent: str,
    body: AdvanceBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> RolloutState:
    """Advance to the next stage (operator) when the current stage's gate passes (409 if not)."""
    return change_stage(
        ctx.store,
        agent,
        RolloutAction.ADVANCE,
        actor=who.name,
        reason=body.reason,
        clock=ctx.clock,
        expected_version=body.expected_version,
        check=gate_check(ctx.store, ctx.clock),
    )


@router.post("/api/agents/{agent}/rollout/rollback", response_model=RolloutState, tags=["rollout"])
def rollback(
    agent: str,
    body: AdvanceBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> RolloutState:
    """Roll back (operator): every run falls back until the agent starts again in shadow."""
    return change_stage(
        ctx.store,
        agent,
        RolloutAction.ROLLBACK,
        actor=who.name,
        reason=body.reason,
        clock=ctx.clock,
        expected_version=body.expected_version,
    )


@router.get("/api/spec-changes", response_model=list[SpecChange], tags=["scope changes"])
def list_spec_changes(
    agent: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[SpecChange]:
    """Applied and pending spec changes with their classification."""
    return [c for c in ctx.store.list_spec_changes(agent) if who.may_act_on(c.agent)]


@router.post(
    "/api/agents/{agent}/spec-changes/{ref}/approve",
    response_model=SpecChange,
    tags=["scope changes"],
)
def approve_change(
    agent: str,
    ref: str,
    body: ReasonBody,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OWNER)),
) -> SpecChange:
    """Approve a pending scope expansion (owner role; the token's name must be an owner or
    backup owner of the agent, other than the person who applied it)."""
    if not any(c.agent == agent for c in ctx.store.find_spec_changes(ref)):
        raise NotFoundError(f"no change {ref!r} of {agent}")
    return approve_spec(ctx.store, ref, actor=who.name, clock=ctx.clock, reason=body.reason)
