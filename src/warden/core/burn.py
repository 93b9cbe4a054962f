"""Error budgets and multi-window multi-burn-rate alerts on SLOs (pure).

Definitions (Google SRE Workbook ch. 2, "Implementing SLOs", and ch. 5, "Alerting on
SLOs"): an SLO allows a ratio of *bad events*; the *error budget* over ``window_days`` is
that ratio times the events; the *burn rate* over a window is the window's bad ratio
divided by the allowed ratio (1: the budget lasts exactly ``window_days``; 14.4: a 30-day
budget loses 2 % in an hour). An alert fires when the burn rate is above its threshold over
both its long and its short window, and the long window holds at least ``Slo.min_runs``
events.

| metric | events | bad events | allowed bad ratio |
| --- | --- | --- | --- |
| ``success_rate`` | finished runs | finished runs not ``resolved`` | ``1 - objective`` |
| ``error_rate`` | finished runs | ``failed`` or ``interrupted`` runs | ``objective`` |
| ``escalation_rate`` | finished runs | ``escalated`` runs | ``objective`` |
| ``latency_p95_s`` | finished runs with a duration | runs slower than the objective | 5 % |

Latency comes from the run-duration histogram (``core.metrics.LATENCY_BOUNDS_S``, bins 25 %
wide): runs in bins wholly above the objective are slow; of the runs in the objective's own
bin, the share of the bin above the objective is counted slow (linear interpolation, as
``RunTotals.latency_percentile`` does). The error is at most the runs in that one bin,
whose durations are within 25 % of the objective. Beyond the last bound (about 69 minutes)
durations are not told apart: with an objective there, no run counts as slow.

An objective that leaves no budget (``success_rate`` 1, ``error_rate`` 0) or no good
events (``success_rate`` 0) has no burn rate: its alerts never fire, and the status says why.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from warden.core.metrics import LATENCY_BOUNDS_S, RunTotals, latency_bin, measure
from warden.core.spec import BurnAlert, Slo

__all__ = [
    "LATENCY_ALLOWED_RATIO",
    "AlertStatus",
    "BadEvents",
    "SloBurn",
    "allowed_ratio",
    "bad_events",
    "burn_rate",
    "evaluate_burn",
    "windows_of",
]

LATENCY_ALLOWED_RATIO = 0.05
"""Share of runs a ``latency_p95_s`` SLO allows above its objective (a 95th percentile)."""


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class BadEvents(_Model):
    """Bad events of one SLO over one window."""

    events: int
    """Events counted (finished runs; with a duration for latency)."""
    bad: float
    """Bad events (a fraction of a run for latency: see the module doc)."""

    @property
    def ratio(self) -> float | None:
        """``bad / events``; None without events."""
        return self.bad / self.events if self.events else None


class AlertStatus(_Model):
    """One burn-rate alert evaluated now."""

    alert: BurnAlert
    long_burn: float | None
    """Burn rate over the long window (None: no events, or no budget)."""
    short_burn: float | None
    """Burn rate over the short window."""
    long_events: int
    short_events: int
    firing: bool
    detail: str


class SloBurn(_Model):
    """An SLO's value, error budget and alerts now."""

    slo: Slo
    value: float | None
    """The metric over ``window_days`` (a ratio, or seconds for latency); None: no runs."""
    events: int
    """Events over ``window_days``."""
    bad: float
    """Bad events over ``window_days``."""
    allowed_ratio: float | None
    """Bad-event ratio the SLO allows; None: the objective leaves no budget."""
    budget_remaining: float | None
    """Share of the error budget over ``window_days`` not spent: 1 untouched, 0 spent,
    negative overspent; None without events or budget."""
    burn_rate: float | None
    """Burn rate over ``window_days`` (1: on track to spend exactly the budget)."""
    alerts: list[AlertStatus]
    note: str = ""
    """Why there is no budget or burn rate, when there is none."""

    @property
    def firing(self) -> list[AlertStatus]:
        """The alerts that fire."""
        return [a for a in self.alerts if a.firing]


def allowed_ratio(slo: Slo) -> float | None:
    """The bad-event ratio ``slo`` allows, or None when the objective leaves no error
    budget (see the module doc; SRE Workbook ch. 2)."""
    if slo.metric == "latency_p95_s":
        return LATENCY_ALLOWED_RATIO if slo.objective > 0 else None
    allowed = 1 - slo.objective if slo.metric == "success_rate" else slo.objective
    return allowed if 0 < allowed < 1 else None


def _slow_runs(latency: Mapping[int, int], objective_s: float) -> float:
    """Runs slower than ``objective_s`` from the duration histogram (module doc)."""
    edge = latency_bin(objective_s)
    slow = 0.0
    for b, n in latency.items():
        if b > edge:
            slow += n
        elif b == edge and b < len(LATENCY_BOUNDS_S):
            low = LATENCY_BOUNDS_S[b - 1] if b > 0 else 0.0
            high = LATENCY_BOUNDS_S[b]
            slow += n * (high - objective_s) / (high - low)
    return slow


def bad_events(slo: Slo, totals: RunTotals) -> BadEvents:
    """Events and bad events of ``slo`` in one window's ``totals``."""
    if slo.metric == "latency_p95_s":
        return BadEvents(
            events=sum(totals.latency.values()), bad=_slow_runs(totals.latency, slo.objective)
        )
    bad = {
        "success_rate": totals.finished - totals.resolved,
        "error_rate": totals.errored,
        "escalation_rate": totals.escalated,
    }[slo.metric]
    return BadEvents(events=totals.finished, bad=bad)


def burn_rate(slo: Slo, totals: RunTotals) -> float | None:
    """Burn rate of ``slo`` over one window: bad ratio / allowed ratio (SRE Workbook ch. 5);
    None without events or without a budget."""
    allowed = allowed_ratio(slo)
    ratio = bad_events(slo, totals).ratio
    return None if allowed is None or ratio is None else ratio / allowed


def windows_of(slo: Slo) -> list[float]:
    """Every window (seconds) ``slo``'s alerts and budget read, distinct, shortest first:
    read each once (``store.run_totals``) and pass them to ``evaluate_burn``."""
    spans = {slo.window_days * 86400.0}
    for a in slo.burn_alerts:
        spans.update((a.long_window_s, a.short_window_s))
    return sorted(spans)


def _alert(slo: Slo, alert: BurnAlert, long: RunTotals, short: RunTotals) -> AlertStatus:
    lb, sb = burn_rate(slo, long), burn_rate(slo, short)
    n_long, n_short = bad_events(slo, long).events, bad_events(slo, short).events
    over = lb is not None and sb is not None and lb > alert.burn_rate and sb > alert.burn_rate
    enough = n_long >= slo.min_runs
    firing = over and enough

    def shown(b: float | None) -> str:
        return "n/a" if b is None else f"{b:.3g}x"

    detail = (
        f"burn {shown(lb)} over {alert.long_window_s:g} s ({n_long} runs), "
        f"{shown(sb)} over {alert.short_window_s:g} s ({n_short} runs); "
        f"{alert.severity} above {alert.burn_rate:g}x"
    )
    if over and not enough:
        detail += f"; held: {n_long} of {slo.min_runs} runs"
    return AlertStatus(
        alert=alert,
        long_burn=lb,
        short_burn=sb,
        long_events=n_long,
        short_events=n_short,
        firing=firing,
        detail=detail,
    )


def evaluate_burn(slo: Slo, totals: Mapping[float, RunTotals]) -> SloBurn:
    """``slo``'s value, budget and alerts from its windows' totals.

    Args:
        slo: The SLO.
        totals: Totals of the runs that ended in the last ``w`` seconds, for every ``w`` in
            ``windows_of(slo)``.

    Raises:
        KeyError: A window of ``windows_of(slo)`` is missing from ``totals``.
    """
    whole = totals[slo.window_days * 86400.0]
    allowed = allowed_ratio(slo)
    counted = bad_events(slo, whole)
    budget = None
    if allowed is not None and counted.events:
        budget = 1 - counted.bad / (allowed * counted.events)
    note = ""
    if allowed is None:
        note = f"objective {slo.objective:g} leaves no error budget: no burn-rate alerts"
    alerts = [
        _alert(slo, a, totals[a.long_window_s], totals[a.short_window_s]) for a in slo.burn_alerts
    ]
    return SloBurn(
        slo=slo,
        value=measure(slo.metric, whole).value,
        events=counted.events,
        bad=counted.bad,
        allowed_ratio=allowed,
        budget_remaining=budget,
        burn_rate=burn_rate(slo, whole),
        alerts=alerts,
        note=note,
    )
