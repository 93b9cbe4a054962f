"""The fleet at a glance: every agent with its owner, stage, kill switch, today's numbers,
open incidents and readiness, each with a red / amber / green health.

Health rules (plain, so a reviewer can check them):
- **red**: the kill switch is on, the agent is paused or rolled back, or an incident is open;
- **amber**: the readiness review fails, or today's error rate is 10 % or more, or today's
  escalation rate is 30 % or more (with at least 20 finished runs);
- **green**: otherwise.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from warden.control.gates import readiness
from warden.core.clock import Clock
from warden.core.incidents import Incident, IncidentStatus
from warden.core.killswitch import KillSwitchState
from warden.core.metrics import measure
from warden.core.ports import Store
from warden.core.readiness import ReadinessReport
from warden.core.rollout import RolloutState, Stage
from warden.core.spec import AgentSpec

__all__ = ["AgentSummary", "DailyPoint", "agent_summary", "daily_series", "fleet", "latest_spec"]

Health = Literal["red", "amber", "green"]

_MIN_RUNS_FOR_RATES = 20


class AgentSummary(BaseModel):
    """One agent on the fleet page."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    agent: str
    description: str
    owner: str
    backup_owner: str
    runbook: str
    spec_version: str
    spec_hash: str
    stage: str
    """Rollout stage as runs see it (``paused`` while killed); ``live`` without a rollout plan."""
    traffic: float | None = None
    """Canary share of routing keys."""
    kill_switch: KillSwitchState
    runs_today: int
    finished_today: int
    resolution_rate: float | None
    escalation_rate: float | None
    error_rate: float | None
    cost_per_completed_usd: float | None
    open_incidents: list[Incident] = Field(default_factory=list[Incident])
    readiness_passed: bool
    readiness_failing: list[str] = Field(default_factory=list[str])
    health: Health
    health_reasons: list[str] = Field(default_factory=list[str])


class DailyPoint(BaseModel):
    """One day of an agent's key rates (UTC day)."""

    day: str
    runs: int
    resolution_rate: float | None
    escalation_rate: float | None
    error_rate: float | None
    cost_usd: float


def _midnight(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


def latest_spec(store: Store, agent: str) -> tuple[AgentSpec, str] | None:
    """The spec version in force for ``agent`` (the one being rolled out, else the newest
    stored) with its content hash, or None when none is stored."""
    versions = store.list_spec_versions(agent)
    if not versions:
        return None
    state = store.get_rollout(agent)
    chosen = next(
        (v for v in versions if state is not None and v.content_hash == state.spec_hash),
        versions[0],
    )
    return AgentSpec.model_validate(chosen.spec), chosen.content_hash


def _traffic(spec: AgentSpec, state: RolloutState | None) -> float | None:
    plan = spec.spec.rollout
    if state is None or state.stage is not Stage.CANARY or plan is None:
        return None
    return plan.canary.traffic


def agent_summary(store: Store, agent: str, clock: Clock) -> AgentSummary | None:
    """The summary of ``agent``, or None when no spec of it is stored."""
    found = latest_spec(store, agent)
    if found is None:
        return None
    spec, spec_hash = found
    now = clock.now()
    state: RolloutState | None = store.get_rollout(agent)
    kill = store.get_kill_switch(agent)
    stage = Stage.PAUSED.value if kill.engaged else (state.stage.value if state else "live")
    samples = store.run_totals(agent, since=_midnight(now))
    runs_today, _ = store.daily_usage(agent, _midnight(now))
    success = measure("success_rate", samples)
    escalation = measure("escalation_rate", samples)
    errors = measure("error_rate", samples)
    cost = measure("cost_per_completed_usd", samples)
    incidents = store.list_incidents(agent=agent, status=IncidentStatus.OPEN)
    review: ReadinessReport = readiness(store, spec, clock)
    reasons: list[str] = []
    health: Health = "green"
    if kill.engaged:
        reasons.append(f"kill switch on: {kill.reason}")
    if state is not None and state.stage in (Stage.PAUSED, Stage.ROLLED_BACK):
        reasons.append(f"rollout {state.stage.value}")
    if incidents:
        reasons.append(f"{len(incidents)} open incident(s)")
    if reasons:
        health = "red"
    else:
        if not review.passed:
            reasons.append(f"readiness: {len(review.failing)} item(s) failing")
        if samples.finished >= _MIN_RUNS_FOR_RATES:
            if errors.value is not None and errors.value >= 0.10:
                reasons.append(f"error rate {errors.value:.0%} today")
            if escalation.value is not None and escalation.value >= 0.30:
                reasons.append(f"escalation rate {escalation.value:.0%} today")
        health = "amber" if reasons else "green"
    return AgentSummary(
        agent=agent,
        description=spec.metadata.description,
        owner=spec.metadata.owner,
        backup_owner=spec.metadata.backup_owner,
        runbook=spec.metadata.runbook,
        spec_version=spec.metadata.version,
        spec_hash=spec_hash,
        stage=stage,
        traffic=_traffic(spec, state),
        kill_switch=kill,
        runs_today=runs_today,
        finished_today=samples.finished,
        resolution_rate=success.value,
        escalation_rate=escalation.value,
        error_rate=errors.value,
        cost_per_completed_usd=cost.value,
        open_incidents=incidents,
        readiness_passed=review.passed,
        readiness_failing=[i.name for i in review.failing],
        health=health,
        health_reasons=reasons,
    )


def fleet(store: Store, clock: Clock) -> list[AgentSummary]:
    """Every agent with a stored spec, red first, then amber, then green, then by name."""
    names = sorted({v.agent for v in store.list_spec_versions()})
    summaries = [s for s in (agent_summary(store, n, clock) for n in names) if s is not None]
    order = {"red": 0, "amber": 1, "green": 2}
    return sorted(summaries, key=lambda s: (order[s.health], s.agent))


def daily_series(store: Store, agent: str, clock: Clock, days: int = 14) -> list[DailyPoint]:
    """The agent's key rates per UTC day for the last ``days`` days, oldest first."""
    today = _midnight(clock.now())
    start = today - timedelta(days=days - 1)
    series = store.run_totals_series(agent, since=start, step=timedelta(days=1), count=days)
    return [
        DailyPoint(
            day=(start + timedelta(days=i)).date().isoformat(),
            runs=chunk.ended,
            resolution_rate=measure("success_rate", chunk).value,
            escalation_rate=measure("escalation_rate", chunk).value,
            error_rate=measure("error_rate", chunk).value,
            cost_usd=chunk.total_cost_usd,
        )
        for i, chunk in enumerate(series)
    ]
