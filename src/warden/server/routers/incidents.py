"""Incidents (kill criteria that tripped): listed, and acknowledged by an operator."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from warden.core.incidents import Incident, IncidentStatus
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.bodies import ReasonBody
from warden.server.deps import ServerContext, context, deny_other_agent, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "incidents"])


@router.get("/api/incidents", response_model=list[Incident])
def list_incidents(
    agent: str | None = None,
    status: IncidentStatus | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[Incident]:
    """Incidents (kill criteria that tripped), newest first."""
    return [i for i in ctx.store.list_incidents(agent, status=status) if who.may_act_on(i.agent)]


@router.post("/api/incidents/{incident_id}/ack", response_model=Incident)
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
