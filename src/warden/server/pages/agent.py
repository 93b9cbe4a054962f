"""The agent page (owner, scope and tools in plain words, rollout timeline and gate, daily
charts, readiness, kill switch) and its kill-switch form.

The form is here, not apart, because it is part of the page: a refused form shows the page
again with the error, and a done one comes back to it with a notice (``_DONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from warden.control.fleet import AgentSummary, agent_summary, daily_series
from warden.control.gates import readiness
from warden.control.killswitch import unkill
from warden.control.rollout import rollout_status
from warden.core.rollout import RolloutTransition
from warden.core.runs import RunFilter
from warden.core.spec import AgentSpec
from warden.core.tokens import Principal, Role
from warden.errors import ControlError, RunStateError
from warden.server.deps import ServerContext, context
from warden.server.pages import wording
from warden.server.pages.charts import Series, bar_chart, rate_chart
from warden.server.pages.common import (
    PageProblem,
    PageRoute,
    check_csrf,
    check_role,
    render,
    usable,
    viewer,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

_DONE = {
    "engaged": "Kill switch engaged. New runs fall back and runs in flight stop before their "
    "next call. The change is in the audit log.",
    "requested": "Release requested. Another operator must approve it before the agent runs "
    "again. The request is in the audit log.",
    "released": "Kill switch released. The agent resumes its rollout stage. The change is in "
    "the audit log.",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to an agent's rollout or kill switch."""

    at: datetime
    what: str
    actor: str
    reason: str


def _summary(ctx: ServerContext, agent: str) -> AgentSummary:
    found = agent_summary(ctx.store, agent, ctx.clock) if usable(agent) else None
    if found is None:
        raise PageProblem(404, "No such agent", f"No spec of an agent named {agent!r} is stored.")
    return found


_TIMELINE = 20
"""Entries of an agent's timeline shown (rollout changes and kill-switch acts)."""


def _timeline(
    ctx: ServerContext, agent: str, transitions: list[RolloutTransition]
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=t.at,
            what=(
                f"New spec version: the {t.to_stage.value} gate starts again"
                if t.action.value == "restart_gate"
                else f"{wording.STAGES.get(t.from_stage.value, t.from_stage.value)} → "
                f"{wording.STAGES.get(t.to_stage.value, t.to_stage.value)}"
                if t.from_stage is not None
                else f"Started in {wording.STAGES.get(t.to_stage.value, t.to_stage.value)}"
            ),
            actor=t.actor,
            reason=t.reason,
        )
        for t in transitions
    ]
    switched = ctx.store.list_audit(
        agent=agent, actions=wording.KILL_SWITCH_ACTIONS, limit=_TIMELINE, newest=True
    )
    entries += [
        TimelineEntry(at=e.at, what=wording.action_words(e.action), actor=e.actor, reason=e.reason)
        for e in switched
    ]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:_TIMELINE]


def agent_page_response(
    request: Request,
    agent: str,
    who: Principal,
    ctx: ServerContext,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> Response:
    """The agent page (also re-shown with an error after a refused form)."""
    summary = _summary(ctx, agent)
    version = ctx.store.get_spec_version(agent, summary.spec_hash)
    assert version is not None
    spec = AgentSpec.model_validate(version.spec)
    try:
        rollout = rollout_status(ctx.store, agent, ctx.clock)
    except ControlError:
        rollout = None
    days = daily_series(ctx.store, agent, ctx.clock, days=14)
    labels = [d.day for d in days]
    charts = {
        "runs": bar_chart(
            "Runs per day",
            labels,
            [float(d.runs) for d in days],
            lambda v: f"{v:.0f}",
            "s-runs",
            whole=True,
            empty="no runs",
        ),
        "rates": rate_chart(
            "Resolution, escalation and error rates per day",
            labels,
            [
                Series("resolved", [d.resolution_rate for d in days], "s-resolution"),
                Series("escalated", [d.escalation_rate for d in days], "s-escalation"),
                Series("errors", [d.error_rate for d in days], "s-error"),
            ],
        ),
        "cost": bar_chart(
            "Model cost per day",
            labels,
            [d.cost_usd for d in days],
            lambda v: "$0" if v == 0 else f"${v:.3g}",
            "s-cost",
            empty="no model cost recorded",
        ),
    }
    tools = [
        {
            "name": name,
            "access": tool.access.value,
            "label": wording.ACCESS[tool.access][0],
            "meaning": wording.ACCESS[tool.access][1],
            "description": tool.description,
            "rules": wording.constraint_lines(tool.arguments) + wording.tool_notes(tool),
        }
        for name, tool in spec.spec.tools.items()
    ]
    return render(
        request,
        "agent.html",
        who,
        status=status,
        a=summary,
        spec=spec,
        tools=tools,
        budgets=wording.budget_lines(spec),
        escalation=wording.escalation_line(spec),
        kill_criteria=[wording.kill_criterion_line(k) for k in spec.spec.kill_criteria],
        rollout=rollout,
        timeline=_timeline(ctx, agent, list(rollout.transitions) if rollout else []),
        review=readiness(ctx.store, spec, ctx.clock),
        charts=charts,
        days=days,
        recent=ctx.store.list_runs(RunFilter(agent=agent, limit=10)),
        release=ctx.store.get_release_request(agent),
        can_operate=who.role.at_least(Role.OPERATOR),
        stages=wording.STAGES,
        heading=wording.heading,
        error=error,
        notice=notice,
    )


@router.get("/agents/{agent}")
def agent_page(
    agent: str,
    request: Request,
    done: str = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """One agent: who owns it, its scope and tools, rollout, daily charts, readiness, kill
    switch."""
    return agent_page_response(request, agent, who, ctx, notice=_DONE.get(done, ""))


@router.post("/agents/{agent}/kill-switch")
def flip_kill_switch(
    agent: str,
    request: Request,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Engage the kill switch, or ask for or approve its release (operator role; the release
    needs a second person, ``runtime.release``). Every step is audited by the store."""
    check_csrf(request, csrf)
    check_role(request, ctx, who, Role.OPERATOR, "flip the kill switch")
    _summary(ctx, agent)
    if action not in ("engage", "release"):
        raise PageProblem(400, "Unknown action", "The kill switch can be engaged or released.")
    why = reason.strip()
    if not why or len(why) > 2000:
        return agent_page_response(
            request,
            agent,
            who,
            ctx,
            status=400,
            error="Say why (up to 2000 characters): the reason is recorded in the audit log.",
        )
    if action == "engage":
        ctx.store.set_kill_switch(
            agent, engaged=True, reason=why, actor=who.name, at=ctx.clock.now()
        )
        done = "engaged"
    else:  # the two-person rule: the first operator asks, a different one approves
        try:
            result = unkill(
                ctx.store, agent, actor=who.actor, reason=why, clock=ctx.clock, principal=who.key
            )
        except RunStateError as exc:  # someone else acted first
            return agent_page_response(request, agent, who, ctx, status=409, error=exc.message)
        done = "requested" if result.pending is not None else "released"
    return RedirectResponse(f"/agents/{quote(agent)}?done={done}#kill-switch", 303)
