"""Agents and their spec versions, daily numbers and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from warden.control.fleet import AgentSummary, DailyPoint, agent_summary, daily_series, fleet
from warden.control.gates import readiness
from warden.core.readiness import ReadinessReport
from warden.core.runs import SpecVersion
from warden.core.spec import AgentSpec
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.deps import ServerContext, context, require

router = APIRouter(prefix="/api/agents", tags=["agents"])


class AgentDetail(BaseModel):
    """An agent's summary with the spec in force."""

    summary: AgentSummary
    spec: dict[str, Any]
    """The spec as stored (``apiVersion`` ... ``spec``)."""


def _summary(ctx: ServerContext, agent: str) -> AgentSummary:
    found = agent_summary(ctx.store, agent, ctx.clock)
    if found is None:
        raise NotFoundError(f"no agent {agent!r} (no spec of it is stored)")
    return found


@router.get("", response_model=list[AgentSummary])
def list_agents(
    ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> list[AgentSummary]:
    """Every agent, red first: owner, stage, kill switch, today's rates, incidents, readiness."""
    return fleet(ctx.store, ctx.clock)


@router.get("/{agent}", response_model=AgentDetail)
def get_agent(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> AgentDetail:
    """One agent with the spec in force."""
    summary = _summary(ctx, agent)
    version = ctx.store.get_spec_version(agent, summary.spec_hash)
    assert version is not None
    return AgentDetail(summary=summary, spec=version.spec)


@router.get("/{agent}/spec-versions", response_model=list[SpecVersion])
def spec_versions(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> list[SpecVersion]:
    """Every stored version of the agent's spec, newest first."""
    return ctx.store.list_spec_versions(agent)


@router.get("/{agent}/daily", response_model=list[DailyPoint])
def daily(
    agent: str,
    days: int = 14,
    ctx: ServerContext = Depends(context),
    _: Principal = Depends(require(Role.VIEWER)),
) -> list[DailyPoint]:
    """Key rates and cost per UTC day (``days`` from 1 to 90)."""
    _summary(ctx, agent)
    return daily_series(ctx.store, agent, ctx.clock, days=max(1, min(days, 90)))


@router.get("/{agent}/readiness", response_model=ReadinessReport)
def get_readiness(
    agent: str, ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> ReadinessReport:
    """The readiness review checklist, each item with its fix."""
    summary = _summary(ctx, agent)
    version = ctx.store.get_spec_version(agent, summary.spec_hash)
    assert version is not None
    return readiness(ctx.store, AgentSpec.model_validate(version.spec), ctx.clock)
