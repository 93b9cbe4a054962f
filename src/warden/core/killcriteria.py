"""Kill criteria, evaluated over a window of runs (pure: the runtime gathers the samples).

See ``core.spec.KillCriterion`` for the fields and ``core.metrics`` for each metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.core.agreement import AgreementRate
from warden.core.metrics import HIGHER_IS_BETTER, Measurement, RunSample, RunTotals, measure
from warden.core.spec import KillCriterion

__all__ = ["CriterionResult", "CriterionStatus", "criterion_key", "evaluate_criterion"]


class CriterionStatus(StrEnum):
    """What one evaluation found."""

    OK = "ok"
    TRIPPED = "tripped"
    INCONCLUSIVE = "inconclusive"
    """Fewer samples than ``min_samples``: never a trip."""


class CriterionResult(BaseModel):
    """One criterion over one window."""

    model_config = ConfigDict(frozen=True)

    criterion: KillCriterion
    key: str
    """``criterion_key``: stable text naming the criterion (part of the dedup key)."""
    measurement: Measurement
    status: CriterionStatus

    def describe(self) -> str:
        """One line: the value against the threshold."""
        m = self.measurement
        value = "no data" if m.value is None else f"{m.value:.4g}"
        return (
            f"{self.criterion.metric} = {value} over {m.samples} samples in the last "
            f"{self.criterion.window_s:g} s ({self.status.value}; threshold "
            f"{'<' if self.criterion.metric in HIGHER_IS_BETTER else '>'} "
            f"{self.criterion.threshold:g}, min {self.criterion.min_samples} samples)"
        )


def criterion_key(c: KillCriterion) -> str:
    """E.g. ``error_rate>0.1/3600s`` or ``shadow_agreement<0.8/86400s``."""
    op = "<" if c.metric in HIGHER_IS_BETTER else ">"
    return f"{c.metric}{op}{c.threshold:g}/{c.window_s:g}s"


def evaluate_criterion(
    c: KillCriterion,
    runs: RunTotals | Sequence[RunSample],
    agreement: AgreementRate | None = None,
) -> CriterionResult:
    """Evaluate ``c`` over ``runs`` (the totals, or the runs, that ended in its window)."""
    m = measure(c.metric, runs, agreement)
    if m.value is None or m.samples < c.min_samples:
        status = CriterionStatus.INCONCLUSIVE
    else:
        bad = m.value < c.threshold if c.metric in HIGHER_IS_BETTER else m.value > c.threshold
        status = CriterionStatus.TRIPPED if bad else CriterionStatus.OK
    return CriterionResult(criterion=c, key=criterion_key(c), measurement=m, status=status)
