"""Run metrics over a window of runs: what kill criteria and SLOs are measured on.

Each metric is a number and the count of samples it was computed from; a metric with no
samples has no value (``None``), never zero.

| metric | value | samples |
| --- | --- | --- |
| ``error_rate`` | runs ended ``failed`` or ``interrupted`` / finished runs | finished runs |
| ``escalation_rate`` | runs ended ``escalated`` / finished runs | finished runs |
| ``success_rate`` | runs ended ``resolved`` / finished runs | finished runs |
| ``policy_denial_rate`` | tool calls denied / tool calls | tool calls |
| ``tool_failure_rate`` | tool calls failed / tool calls | tool calls |
| ``cost_per_completed_usd`` | model cost of finished runs / ``resolved`` runs (USD) | resolved runs |
| ``latency_p95_s`` | 95th percentile of run duration (s; see below) | finished runs |
| ``shadow_agreement`` | agreed / compared (see ``core.agreement``) | compared runs |

*Finished runs* are runs the agent did (mode ``live`` or ``shadow``) that reached a terminal
state other than ``killed``: fallback runs and runs the kill switch stopped say nothing
about the agent.

Metrics are computed from ``RunTotals``: counts and sums over a window, which the store
keeps per minute and per hour as runs end (``store.rollups``), so a window costs its number
of buckets, not its number of runs. Run durations are kept as a histogram over
``LATENCY_BOUNDS_S``: geometric bins growing by 25 % from 10 ms to about 69 minutes (as
Prometheus histograms do). A percentile is the nearest-rank bin, interpolated linearly
inside it: its error is at most the bin's width, 25 % of the value (below 10 ms, 10 ms;
above the last bound the value is reported as that bound).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from warden.core.agreement import AgreementRate
from warden.core.runs import RunMode, RunStatus

__all__ = [
    "HIGHER_IS_BETTER",
    "LATENCY_BOUNDS_S",
    "Measurement",
    "MetricName",
    "RunSample",
    "RunTotals",
    "latency_bin",
    "measure",
    "percentile",
]

MetricName = Literal[
    "error_rate",
    "escalation_rate",
    "success_rate",
    "policy_denial_rate",
    "tool_failure_rate",
    "cost_per_completed_usd",
    "latency_p95_s",
    "shadow_agreement",
]

HIGHER_IS_BETTER: frozenset[str] = frozenset({"success_rate", "shadow_agreement"})
"""Metrics that are bad when *below* a threshold; all others are bad above it."""

LATENCY_BOUNDS_S: tuple[float, ...] = tuple(round(0.01 * 1.25**k, 6) for k in range(58))
"""Upper bounds (seconds) of the run-duration histogram's bins: 0.01 s to about 4,150 s,
each 25 % above the last. Bin ``i`` holds durations in ``(bound[i-1], bound[i]]``; bin
``len(LATENCY_BOUNDS_S)`` holds longer ones."""


def latency_bin(seconds: float) -> int:
    """The histogram bin of a run duration in seconds (see ``LATENCY_BOUNDS_S``)."""
    return bisect.bisect_left(LATENCY_BOUNDS_S, seconds)


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class RunSample(_Model):
    """What the metrics need from one run."""

    run_id: str
    status: RunStatus
    mode: RunMode
    latency_s: float | None = None
    cost_usd: float = 0.0
    tool_calls: int = 0
    denied_calls: int = 0
    failed_calls: int = 0
    ended_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """The agent did this run and it ended (not fallback, not killed)."""
        return (
            self.status.is_terminal
            and self.status is not RunStatus.KILLED
            and self.mode is not RunMode.FALLBACK
        )


class RunTotals(_Model):
    """What the metrics need from a window of runs: counts and sums, no run rows.

    Counts of tool calls, cost and the duration histogram are of *finished* runs only
    (see the module doc); ``killed`` and ``fallback`` count the other ended runs.
    """

    finished: int = 0
    resolved: int = 0
    escalated: int = 0
    errored: int = 0
    """Finished ``failed`` or ``interrupted``."""
    killed: int = 0
    fallback: int = 0
    tool_calls: int = 0
    denied_calls: int = 0
    failed_calls: int = 0
    cost_usd: float = 0.0
    """Model cost of finished runs (USD)."""
    other_cost_usd: float = 0.0
    """Model cost of killed and fallback runs (USD)."""
    latency: dict[int, int] = Field(default_factory=dict[int, int])
    """Finished runs with a duration, by ``latency_bin``."""

    @property
    def ended(self) -> int:
        """Every run that ended in the window."""
        return self.finished + self.killed + self.fallback

    @property
    def total_cost_usd(self) -> float:
        """Model cost of every run that ended in the window (USD)."""
        return self.cost_usd + self.other_cost_usd

    def __add__(self, other: RunTotals) -> RunTotals:
        latency = dict(self.latency)
        for b, n in other.latency.items():
            latency[b] = latency.get(b, 0) + n
        # Both sides are valid already: no validation on this hot path (rollup writes).
        return RunTotals.model_construct(
            finished=self.finished + other.finished,
            resolved=self.resolved + other.resolved,
            escalated=self.escalated + other.escalated,
            errored=self.errored + other.errored,
            killed=self.killed + other.killed,
            fallback=self.fallback + other.fallback,
            tool_calls=self.tool_calls + other.tool_calls,
            denied_calls=self.denied_calls + other.denied_calls,
            failed_calls=self.failed_calls + other.failed_calls,
            cost_usd=self.cost_usd + other.cost_usd,
            other_cost_usd=self.other_cost_usd + other.other_cost_usd,
            latency=latency,
        )

    @classmethod
    def sum(cls, parts: Iterable[RunTotals]) -> RunTotals:
        """The totals of several windows."""
        total = cls()
        for part in parts:
            total = total + part
        return total

    @classmethod
    def of(cls, samples: Iterable[RunSample]) -> RunTotals:
        """The totals of ``samples`` (runs still running are left out)."""
        return cls.sum(cls.of_run(s) for s in samples if s.status.is_terminal)

    @classmethod
    def of_run(cls, s: RunSample) -> RunTotals:
        """The totals of one ended run."""
        if s.mode is RunMode.FALLBACK:
            return cls(fallback=1, other_cost_usd=s.cost_usd)
        if s.status is RunStatus.KILLED:
            return cls(killed=1, other_cost_usd=s.cost_usd)
        return cls(
            finished=1,
            resolved=int(s.status is RunStatus.RESOLVED),
            escalated=int(s.status is RunStatus.ESCALATED),
            errored=int(s.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)),
            tool_calls=s.tool_calls,
            denied_calls=s.denied_calls,
            failed_calls=s.failed_calls,
            cost_usd=s.cost_usd,
            latency={} if s.latency_s is None else {latency_bin(s.latency_s): 1},
        )

    def latency_percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100) of finished runs' durations in seconds, from the
        histogram (module doc: error at most one bin, 25 %); None without durations."""
        n = sum(self.latency.values())
        if n == 0:
            return None
        rank = max(1, math.ceil(q / 100 * n))
        seen = 0
        for b in sorted(self.latency):
            count = self.latency[b]
            if seen + count >= rank:
                if b >= len(LATENCY_BOUNDS_S):
                    return LATENCY_BOUNDS_S[-1]
                low = LATENCY_BOUNDS_S[b - 1] if b > 0 else 0.0
                high = LATENCY_BOUNDS_S[b]
                return low + (high - low) * (rank - seen) / count
            seen += count
        raise AssertionError("unreachable: rank is at most n")  # pragma: no cover


class Measurement(_Model):
    """A metric's value over a window."""

    metric: str
    value: float | None
    """None with no samples."""
    samples: int


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method (no interpolation)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def measure(
    metric: str,
    runs: RunTotals | Sequence[RunSample],
    agreement: AgreementRate | None = None,
) -> Measurement:
    """Compute ``metric`` over a window's ``runs`` (``agreement`` for ``shadow_agreement``).

    Args:
        metric: A ``MetricName``.
        runs: The window's totals (from the store's rollups), or its runs one by one.
        agreement: Shadow agreement over the window, for ``shadow_agreement``.

    Raises:
        ValueError: Unknown metric.
    """
    t = runs if isinstance(runs, RunTotals) else RunTotals.of(runs)
    n = t.finished
    if metric == "error_rate":
        return Measurement(metric=metric, value=_ratio(t.errored, n), samples=n)
    if metric == "escalation_rate":
        return Measurement(metric=metric, value=_ratio(t.escalated, n), samples=n)
    if metric == "success_rate":
        return Measurement(metric=metric, value=_ratio(t.resolved, n), samples=n)
    if metric == "policy_denial_rate":
        return Measurement(
            metric=metric, value=_ratio(t.denied_calls, t.tool_calls), samples=t.tool_calls
        )
    if metric == "tool_failure_rate":
        return Measurement(
            metric=metric, value=_ratio(t.failed_calls, t.tool_calls), samples=t.tool_calls
        )
    if metric == "cost_per_completed_usd":
        return Measurement(
            metric=metric,
            value=t.cost_usd / t.resolved if t.resolved else None,
            samples=t.resolved,
        )
    if metric == "latency_p95_s":
        return Measurement(
            metric=metric, value=t.latency_percentile(95), samples=sum(t.latency.values())
        )
    if metric == "shadow_agreement":
        if agreement is None:
            return Measurement(metric=metric, value=None, samples=0)
        return Measurement(metric=metric, value=agreement.rate, samples=agreement.compared)
    raise ValueError(f"unknown metric {metric!r}")
