"""Fleet-wide numbers for the top of the dashboard (``/api/metrics/summary``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from warden.control.fleet import fleet
from warden.core.incidents import IncidentStatus
from warden.core.runs import ApprovalStatus
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require

router = APIRouter(tags=["metrics"])


class Summary(BaseModel):
    """What needs attention across the fleet now."""

    agents: int
    red: int
    amber: int
    green: int
    runs_today: int
    pending_approvals: int
    open_handoffs: int
    open_incidents: int
    killed_agents: list[str]


@router.get("/api/metrics/summary", response_model=Summary)
def summary(
    ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> Summary:
    """Counts across every agent: health, today's runs, approvals, queue, incidents."""
    agents = fleet(ctx.store, ctx.clock)
    return Summary(
        agents=len(agents),
        red=sum(a.health == "red" for a in agents),
        amber=sum(a.health == "amber" for a in agents),
        green=sum(a.health == "green" for a in agents),
        runs_today=sum(a.runs_today for a in agents),
        pending_approvals=ctx.store.count_approvals(ApprovalStatus.PENDING),
        open_handoffs=ctx.store.count_handoffs(status="open"),
        open_incidents=ctx.store.count_incidents(status=IncidentStatus.OPEN),
        killed_agents=[a.agent for a in agents if a.kill_switch.engaged],
    )
