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
| ``latency_p95_s`` | 95th percentile of run duration (s, nearest rank) | finished runs |
| ``shadow_agreement`` | agreed / compared (see ``core.agreement``) | compared runs |

*Finished runs* are runs the agent did (mode ``live`` or ``shadow``) that reached a terminal
state other than ``killed``: fallback runs and runs the kill switch stopped say nothing
about the agent.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from warden.core.agreement import AgreementRate
from warden.core.runs import RunMode, RunStatus

__all__ = [
    "HIGHER_IS_BETTER",
    "Measurement",
    "MetricName",
    "RunSample",
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
    metric: str, samples: list[RunSample], agreement: AgreementRate | None = None
) -> Measurement:
    """Compute ``metric`` over ``samples`` (``agreement`` for ``shadow_agreement``).

    Raises:
        ValueError: Unknown metric.
    """
    done = [s for s in samples if s.finished]
    n = len(done)

    def count(*states: RunStatus) -> int:
        return sum(s.status in states for s in done)

    calls = sum(s.tool_calls for s in done)
    if metric == "error_rate":
        return Measurement(
            metric=metric,
            value=_ratio(count(RunStatus.FAILED, RunStatus.INTERRUPTED), n),
            samples=n,
        )
    if metric == "escalation_rate":
        return Measurement(metric=metric, value=_ratio(count(RunStatus.ESCALATED), n), samples=n)
    if metric == "success_rate":
        return Measurement(metric=metric, value=_ratio(count(RunStatus.RESOLVED), n), samples=n)
    if metric == "policy_denial_rate":
        denied = sum(s.denied_calls for s in done)
        return Measurement(metric=metric, value=_ratio(denied, calls), samples=calls)
    if metric == "tool_failure_rate":
        failed = sum(s.failed_calls for s in done)
        return Measurement(metric=metric, value=_ratio(failed, calls), samples=calls)
    if metric == "cost_per_completed_usd":
        resolved = count(RunStatus.RESOLVED)
        cost = sum(s.cost_usd for s in done)
        return Measurement(
            metric=metric, value=cost / resolved if resolved else None, samples=resolved
        )
    if metric == "latency_p95_s":
        lat = [s.latency_s for s in done if s.latency_s is not None]
        return Measurement(
            metric=metric, value=percentile(lat, 95) if lat else None, samples=len(lat)
        )
    if metric == "shadow_agreement":
        if agreement is None:
            return Measurement(metric=metric, value=None, samples=0)
        return Measurement(metric=metric, value=agreement.rate, samples=agreement.compared)
    raise ValueError(f"unknown metric {metric!r}")
