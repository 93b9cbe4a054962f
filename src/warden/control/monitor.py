"""``warden monitor``: the server-side loop over every agent.

Each pass, for each agent with a rollout: evaluate its kill criteria on the version being
rolled out (``control.killcriteria``), its SLOs' burn-rate alerts (``control.slo``), page
the backup owner for incidents nobody acknowledged in time (``control.paging``), and, when
the spec asks for ``auto_advance``, advance the rollout if its gate passes (never while the
kill switch is on). Every other agent the store has seen with a stored spec gets the SLO
burn-rate check on the spec in force (``control.fleet.latest_spec``). Then one batch of
retention per agent (``control.retention``), so a long backlog is worked off over passes.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from warden.control.fleet import latest_spec
from warden.control.gates import gate_check, spec_of
from warden.control.killcriteria import check_kill_criteria
from warden.control.paging import escalate_unacknowledged
from warden.control.retention import prune
from warden.control.rollout import change_stage
from warden.control.slo import check_slo_burn
from warden.core.clock import Clock
from warden.core.paging import Pager
from warden.core.ports import Store
from warden.core.rollout import RolloutAction, Stage
from warden.errors import ControlError, NotFoundError

__all__ = ["MonitorEvent", "monitor_once"]

log = logging.getLogger("warden.monitor")


class MonitorEvent(BaseModel):
    """Something a monitor pass did."""

    model_config = ConfigDict(frozen=True)

    agent: str
    kind: str
    """``incident``, ``escalated``, ``advanced``, ``held``, ``pruned`` or ``error``."""
    detail: str


def monitor_once(
    store: Store,
    clock: Clock,
    pager: Pager | None,
    agents: list[str] | None = None,
    *,
    retention_days: float | None = None,
) -> list[MonitorEvent]:
    """One pass over ``agents`` (default: every agent with a rollout; for SLO burn and
    retention, every agent the store has seen). ``retention_days`` applies to agents whose
    spec sets none."""
    events: list[MonitorEvent] = []
    states = [s for s in store.list_rollouts() if agents is None or s.agent in agents]
    for state in states:
        try:
            spec = spec_of(store, state.agent, state.spec_hash)
        except NotFoundError as exc:
            events.append(MonitorEvent(agent=state.agent, kind="error", detail=exc.message))
            continue
        for inc in check_kill_criteria(store, spec, state.spec_hash, clock, pager):
            events.append(MonitorEvent(agent=state.agent, kind="incident", detail=inc.summary))
        for inc in check_slo_burn(store, spec, state.spec_hash, clock, pager):
            events.append(MonitorEvent(agent=state.agent, kind="incident", detail=inc.summary))
        if pager is not None:
            for inc in escalate_unacknowledged(store, spec, pager, clock):
                events.append(
                    MonitorEvent(
                        agent=state.agent,
                        kind="escalated",
                        detail=f"{inc.id}: paged the backup owner",
                    )
                )
        plan = spec.spec.rollout
        if (
            plan is None
            or not plan.auto_advance
            or state.stage not in (Stage.SHADOW, Stage.CANARY)
            or store.get_kill_switch(state.agent).engaged
        ):
            continue
        try:
            moved = change_stage(
                store,
                state.agent,
                RolloutAction.ADVANCE,
                actor="warden",
                reason="auto-advance: the gate passed",
                clock=clock,
                expected_version=state.version,
                check=gate_check(store, clock),
            )
            events.append(
                MonitorEvent(agent=state.agent, kind="advanced", detail=f"now {moved.stage.value}")
            )
        except ControlError as exc:
            events.append(MonitorEvent(agent=state.agent, kind="held", detail=exc.message))
    events.extend(_slo_burn_without_rollout(store, clock, pager, agents, {s.agent for s in states}))
    for done in prune(store, clock, agents=agents, default_days=retention_days, max_batches=1):
        if done.runs:
            events.append(
                MonitorEvent(
                    agent=done.agent,
                    kind="pruned",
                    detail=f"{done.runs} run(s) older than {done.days:g} days removed"
                    + ("" if done.done else " (more next pass)"),
                )
            )
    return events


def _slo_burn_without_rollout(
    store: Store, clock: Clock, pager: Pager | None, agents: list[str] | None, done: set[str]
) -> list[MonitorEvent]:
    """The SLO burn-rate check of every seen agent (of ``agents``) not in ``done`` (those
    with a rollout), on the spec in force; agents with no stored spec are skipped."""
    events: list[MonitorEvent] = []
    for agent in store.seen_agents():
        if agent in done or (agents is not None and agent not in agents):
            continue
        found = latest_spec(store, agent)
        if found is None:
            continue
        spec, spec_hash = found
        for inc in check_slo_burn(store, spec, spec_hash, clock, pager):
            events.append(MonitorEvent(agent=agent, kind="incident", detail=inc.summary))
    return events
