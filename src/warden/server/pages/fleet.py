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
    # Counted by the database, of the agents shown (an empty fleet counts nothing).
    handoffs = ctx.store.count_handoffs(status="open", agents=names) if names else 0
    incidents = ctx.store.count_incidents(status=IncidentStatus.OPEN, agents=names) if names else 0
    approvals = ctx.store.count_approvals(ApprovalStatus.PENDING, agents=names) if names else 0
    tally = {tone: sum(a.health == tone for a in agents) for tone in ("red", "amber", "green")}
    return render(
        request,
        "fleet.html",
        who,
        agents=agents,
        tally=tally,
        runs_today=sum(a.runs_today for a in agents),
        approvals=approvals,
        handoffs=handoffs,
        incidents=incidents,
        killed=[a.agent for a in agents if a.kill_switch.engaged],
        releases={
            a.agent: found
            for a in agents
            if a.kill_switch.engaged and (found := ctx.store.get_release_request(a.agent))
        },
        stages=wording.STAGES,
        now=ctx.clock.now(),
    )
