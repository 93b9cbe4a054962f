"""Incidents (kill criteria that tripped): listed, and acknowledged or resolved by an
operator. Either is sent on to the incident's PagerDuty channels (Events API v2
``acknowledge`` / ``resolve``, same ``dedup_key`` as the trigger; ``control.paging``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from warden.control.paging import set_incident_status
from warden.core.incidents import Incident, IncidentStatus
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.integrations.pagers import HttpPager
from warden.server.bodies import ReasonBody
from warden.server.deps import ServerContext, context, deny_other_agent, require
from warden.server.routers import OPERATIONS_TAG
from warden.server.routers.cursors import MAX_LIMIT, Page, decode_cursor, encode_cursor, page_of

router = APIRouter(tags=[OPERATIONS_TAG, "incidents"])


def _cursor(i: Incident) -> str:
    return encode_cursor(i.opened_at, i.id)


@router.get("/api/incidents", response_model=Page[Incident])
def list_incidents(
    agent: str | None = None,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> Page[Incident]:
    """Incidents (kill criteria that tripped), newest first, ``limit`` per page (a token
    bound to an agent sees that agent's only). ``next_cursor`` is the ``cursor`` of the
    next page."""
    if not who.may_act_on(agent or who.agent or ""):
        return Page(items=[])
    after = decode_cursor(cursor, str) if cursor else None
    rows = ctx.store.list_incidents(
        who.agent or agent,
        status=status,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    return page_of(rows, limit, _cursor)


def _set_status(
    incident_id: str,
    status: IncidentStatus,
    reason: str,
    request: Request,
    ctx: ServerContext,
    who: Principal,
) -> Incident:
    found = ctx.store.get_incident(incident_id)
    if found is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    deny_other_agent(ctx, request, who, found.agent)
    update = set_incident_status(
        ctx.store,
        incident_id,
        status,
        actor=who.name,
        clock=ctx.clock,
        reason=reason,
        pager=HttpPager(),
    )
    return update.incident


@router.post("/api/incidents/{incident_id}/ack", response_model=Incident)
def ack_incident(
    incident_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> Incident:
    """Acknowledge an incident (operator); its PagerDuty channels get ``acknowledge``."""
    return _set_status(incident_id, IncidentStatus.ACKNOWLEDGED, body.reason, request, ctx, who)


@router.post("/api/incidents/{incident_id}/resolve", response_model=Incident)
def resolve_incident(
    incident_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.OPERATOR)),
) -> Incident:
    """Resolve an incident (operator); its PagerDuty channels get ``resolve``."""
    return _set_status(incident_id, IncidentStatus.RESOLVED, body.reason, request, ctx, who)
