"""Gates: what must hold before a rollout leaves its stage.

- **Out of shadow** (``rollout.shadow``): at least ``min_runs`` shadow runs of this spec
  version compared with a person's action, agreement at least ``min_agreement``, at least
  ``min_days`` in the stage, and a passing readiness review.
- **Out of canary** (``rollout.canary``): at least ``min_runs`` finished canary runs of this
  version, ``clean_days`` since the stage started or the last kill-criterion trip
  (whichever is later), and every SLO met over those runs.

Each check is ``pass``, ``fail`` or ``inconclusive``. Too few samples or too few days is
``inconclusive``: it holds the stage and never promotes (as Argo Rollouts and Flagger treat
an analysis without data). The gate is ``fail`` if any check fails, else ``inconclusive``
if any is, else ``pass``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from warden.core.agreement import AgreementRate
from warden.core.readiness import ReadinessReport
from warden.core.rollout import Stage
from warden.core.slo import SloResult
from warden.core.spec import CanaryGate, ShadowGate

__all__ = ["GateCheck", "GateResult", "GateStatus", "canary_gate", "shadow_gate"]


class GateStatus(StrEnum):
    """Outcome of a gate or of one of its checks."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class GateCheck(_Model):
    """One condition of a gate."""

    name: str
    status: GateStatus
    detail: str
    """What was measured, in plain words."""


class GateResult(_Model):
    """A gate, evaluated."""

    stage: Stage
    target: Stage | None
    status: GateStatus
    checks: list[GateCheck] = Field(default_factory=list[GateCheck])
    at: datetime

    @property
    def passed(self) -> bool:
        """True only when every check passes."""
        return self.status is GateStatus.PASS

    def summary(self) -> str:
        """One line: the status and the checks that do not pass."""
        held = [f"{c.name}: {c.detail}" for c in self.checks if c.status is not GateStatus.PASS]
        return self.status.value + (" (" + "; ".join(held) + ")" if held else "")


def _combine(stage: Stage, target: Stage, checks: list[GateCheck], at: datetime) -> GateResult:
    statuses = {c.status for c in checks}
    status = (
        GateStatus.FAIL
        if GateStatus.FAIL in statuses
        else GateStatus.INCONCLUSIVE
        if GateStatus.INCONCLUSIVE in statuses
        else GateStatus.PASS
    )
    return GateResult(stage=stage, target=target, status=status, checks=checks, at=at)


def _days_check(name: str, days: float, needed: float) -> GateCheck:
    if days >= needed:
        return GateCheck(name=name, status=GateStatus.PASS, detail=f"{days:.1f} of {needed:g} days")
    return GateCheck(
        name=name,
        status=GateStatus.INCONCLUSIVE,
        detail=f"{days:.1f} of {needed:g} days: wait {needed - days:.1f} more",
    )


def shadow_gate(
    plan: ShadowGate,
    agreement: AgreementRate | None,
    days_in_stage: float,
    readiness: ReadinessReport,
    at: datetime,
) -> GateResult:
    """The gate out of shadow.

    Args:
        plan: ``rollout.shadow``.
        agreement: Agreement of this spec version's shadow runs since the gate started.
        days_in_stage: Days since the gate started.
        readiness: The readiness review.
        at: Evaluation time.
    """
    compared = agreement.compared if agreement else 0
    checks: list[GateCheck] = []
    if agreement is None or agreement.rate is None or compared < plan.min_runs:
        checks.append(
            GateCheck(
                name="agreement",
                status=GateStatus.INCONCLUSIVE,
                detail=f"{compared} of {plan.min_runs} shadow runs compared with a person's action",
            )
        )
    else:
        ok = agreement.rate >= plan.min_agreement
        checks.append(
            GateCheck(
                name="agreement",
                status=GateStatus.PASS if ok else GateStatus.FAIL,
                detail=f"{agreement.rate:.1%} agreement (95% CI {agreement.low:.1%}-"
                f"{agreement.high:.1%}) over {compared} runs; needs {plan.min_agreement:.0%}",
            )
        )
    checks.append(_days_check("days_in_shadow", days_in_stage, plan.min_days))
    failing = [i.name for i in readiness.failing]
    checks.append(
        GateCheck(
            name="readiness",
            status=GateStatus.FAIL if failing else GateStatus.PASS,
            detail=f"failing: {', '.join(failing)}" if failing else "every item passes",
        )
    )
    return _combine(Stage.SHADOW, Stage.CANARY, checks, at)


def canary_gate(
    plan: CanaryGate,
    finished_runs: int,
    clean_days: float,
    trips: int,
    slos: list[SloResult],
    at: datetime,
) -> GateResult:
    """The gate out of canary.

    Args:
        plan: ``rollout.canary``.
        finished_runs: Canary (live) runs of this spec version that ended since the gate
            started.
        clean_days: Days since the gate started or the last kill-criterion trip, whichever
            is later.
        trips: Kill-criterion trips since the gate started.
        slos: Each SLO evaluated over those runs.
        at: Evaluation time.
    """
    checks: list[GateCheck] = [
        GateCheck(
            name="canary_runs",
            status=GateStatus.PASS if finished_runs >= plan.min_runs else GateStatus.INCONCLUSIVE,
            detail=f"{finished_runs} of {plan.min_runs} canary runs finished",
        )
    ]
    clean = _days_check("clean_days", clean_days, plan.clean_days)
    if trips:
        clean = clean.model_copy(
            update={"detail": clean.detail + f" since the last of {trips} kill-criterion trip(s)"}
        )
    checks.append(clean)
    for slo in slos:
        checks.append(
            GateCheck(
                name=f"slo:{slo.name}", status=GateStatus(slo.status.value), detail=slo.detail
            )
        )
    return _combine(Stage.CANARY, Stage.LIVE, checks, at)
