"""SLOs evaluated over a window of runs (the canary gate uses them).

An SLO on a rate or latency is met when the measured value is on the good side of its
objective: ``success_rate`` at least the objective; ``error_rate``, ``escalation_rate`` and
``latency_p95_s`` at most. With fewer than ``min_samples`` samples it is ``inconclusive``.
Error budgets and burn-rate alerts (Google SRE Workbook, "Alerting on SLOs") are for
``warden monitor``; this module answers "was the SLO met over these runs".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.core.metrics import HIGHER_IS_BETTER, RunSample, RunTotals, measure
from warden.core.spec import Slo

__all__ = ["SloResult", "SloStatus", "evaluate_slo"]


class SloStatus(StrEnum):
    """Whether an SLO was met."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class SloResult(BaseModel):
    """One SLO over a window."""

    model_config = ConfigDict(frozen=True)

    name: str
    metric: str
    objective: float
    value: float | None
    samples: int
    status: SloStatus
    detail: str


def evaluate_slo(slo: Slo, runs: RunTotals | Sequence[RunSample], min_samples: int) -> SloResult:
    """Measure ``slo.metric`` over ``runs`` (a window's totals, or its runs) and compare it
    with the objective."""
    m = measure(slo.metric, runs)
    if m.value is None or m.samples < min_samples:
        status = SloStatus.INCONCLUSIVE
        detail = f"{m.samples} of {min_samples} samples"
    else:
        good = (
            m.value >= slo.objective if slo.metric in HIGHER_IS_BETTER else m.value <= slo.objective
        )
        status = SloStatus.PASS if good else SloStatus.FAIL
        side = ">=" if slo.metric in HIGHER_IS_BETTER else "<="
        detail = (
            f"{slo.metric} {m.value:.4g} over {m.samples} runs; objective {side} {slo.objective:g}"
        )
    return SloResult(
        name=slo.name,
        metric=slo.metric,
        objective=slo.objective,
        value=m.value,
        samples=m.samples,
        status=status,
        detail=detail,
    )
