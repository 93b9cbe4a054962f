"""SLO status and burn-rate alerting for one agent (Google SRE Workbook ch. 5).

``slo_status`` reads each window an agent's SLOs need once from the store's rollups
(``store.run_totals``: cost by buckets, not by runs) and evaluates error budgets and
multi-window burn-rate alerts (``core.burn``). SLOs measure the agent's *live* runs of
every spec version: the budget belongs to the service, not to one version, and shadow and
fallback runs serve nobody.

``check_slo_burn`` opens an incident for each firing alert: one per SLO and alert while
unresolved (``dedup_key`` ``agent:slo:NAME:LONGs/SHORTs>RATEx``), so a burning SLO opens
one incident, not one per monitor pass. A ``page`` alert pages the owner's on-call
channels when its incident is new; a ``ticket`` alert records the incident only.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from warden.control.paging import page_incident
from warden.core.burn import AlertStatus, SloBurn, evaluate_burn, windows_of
from warden.core.clock import Clock
from warden.core.decisions import RuleMode
from warden.core.incidents import Incident
from warden.core.metrics import RunTotals
from warden.core.paging import Pager
from warden.core.ports import Store
from warden.core.runs import RunMode
from warden.core.spec import AgentSpec, Slo

__all__ = ["alert_key", "check_slo_burn", "slo_status"]

log = logging.getLogger("warden.slo")


def slo_status(store: Store, spec: AgentSpec, clock: Clock) -> list[SloBurn]:
    """Value, error budget, burn rates and firing alerts of every SLO of ``spec`` now.

    Each distinct window (``Slo.window_days`` and the alerts' long and short windows) is
    read once for all the SLOs, from the rollups of the agent's live runs.

    Returns:
        One ``SloBurn`` per SLO, in the spec's order.
    """
    now = clock.now()
    read: dict[float, RunTotals] = {}
    results: list[SloBurn] = []
    for slo in spec.spec.slos:
        for w in windows_of(slo):
            if w not in read:
                read[w] = store.run_totals(
                    spec.name, since=now - timedelta(seconds=w), mode=RunMode.LIVE
                )
        results.append(evaluate_burn(slo, read))
    return results


def alert_key(agent: str, slo: Slo, status: AlertStatus) -> str:
    """The stable dedup key of one alert of one SLO (PagerDuty ``dedup_key``, <= 255)."""
    a = status.alert
    return f"{agent}:slo:{slo.name}:{a.long_window_s:g}s/{a.short_window_s:g}s>{a.burn_rate:g}x"[
        :255
    ]


def _incident(
    spec: AgentSpec, spec_hash: str, burn: SloBurn, status: AlertStatus, clock: Clock
) -> Incident:
    slo, a = burn.slo, status.alert
    paged = a.severity == "page"
    budget = (
        ""
        if burn.budget_remaining is None
        else f"; {burn.budget_remaining:.0%} of the {slo.window_days}-day error budget left"
    )
    applied = "paged the owner" if paged else "ticket: recorded, nobody paged"
    return Incident(
        id=f"inc_{uuid.uuid4().hex[:16]}",
        agent=spec.name,
        criterion=(
            f"slo {slo.name}: burn rate > {a.burn_rate:g}x over {a.long_window_s:g} s "
            f"and {a.short_window_s:g} s"
        ),
        metric=slo.metric,
        threshold=a.burn_rate,
        value=status.long_burn or 0.0,
        samples=status.long_events,
        window_s=a.long_window_s,
        action="page" if paged else "ticket",
        mode=RuleMode.ENFORCE if paged else RuleMode.ADVISORY,
        applied=applied,
        spec_hash=spec_hash,
        spec_version=spec.metadata.version,
        dedup_key=alert_key(spec.name, slo, status),
        opened_at=clock.now(),
        summary=(
            f"{spec.name}: SLO {slo.name} ({slo.metric} objective {slo.objective:g}) is "
            f"burning its error budget: {status.detail}{budget}. {applied}."
        ),
    )


def check_slo_burn(
    store: Store, spec: AgentSpec, spec_hash: str, clock: Clock, pager: Pager | None
) -> list[Incident]:
    """Evaluate the burn-rate alerts of every SLO of ``spec`` and act on those firing.

    Args:
        store: The store.
        spec: The spec in force for the agent.
        spec_hash: Its content hash (recorded on the incident).
        clock: Now.
        pager: Pages ``page`` alerts; None: incidents only.

    Returns:
        The incidents opened by this check (an alert whose incident is still unresolved
        opens none and pages nobody).
    """
    opened: list[Incident] = []
    if not spec.spec.slos:
        return opened
    for burn in slo_status(store, spec, clock):
        for status in burn.firing:
            incident, new = store.open_incident(_incident(spec, spec_hash, burn, status, clock))
            if not new:
                continue
            opened.append(incident)
            log.warning("%s", incident.summary)
            if status.alert.severity == "page" and pager is not None:
                page_incident(store, spec, incident, pager, clock)
    return opened
