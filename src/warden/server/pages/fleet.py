"""The fleet page: every agent, red first, with today's numbers, and what waits for people."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from warden.control.fleet import fleet
from warden.core.incidents import IncidentStatus
from warden.core.runs import ApprovalStatus
from warden.core.tokens import Principal
from warden.server.deps import ServerContext, context
from warden.server.pages import wording
from warden.server.pages.common import PageRoute, render, viewer

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/")
def fleet_page(
    request: Request,
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Every agent, red first, with the numbers of today."""
    agents = [a for a in fleet(ctx.store, ctx.clock) if who.may_act_on(a.agent)]
    names = {a.agent for a in agents}
    handoffs = [h for h in ctx.store.list_handoffs() if h.status == "open" and h.agent in names]
    incidents = [
        i for i in ctx.store.list_incidents(status=IncidentStatus.OPEN) if i.agent in names
    ]
    approvals = [a for a in ctx.store.list_approvals(ApprovalStatus.PENDING) if a.agent in names]
    tally = {tone: sum(a.health == tone for a in agents) for tone in ("red", "amber", "green")}
    return render(
        request,
        "fleet.html",
        who,
        agents=agents,
        tally=tally,
        runs_today=sum(a.runs_today for a in agents),
        approvals=len(approvals),
        handoffs=len(handoffs),
        incidents=len(incidents),
        killed=[a.agent for a in agents if a.kill_switch.engaged],
        releases={
            a.agent: found
            for a in agents
            if a.kill_switch.engaged and (found := ctx.store.get_release_request(a.agent))
        },
        stages=wording.STAGES,
        now=ctx.clock.now(),
    )
