"""Gates out of shadow and canary: no data is inconclusive and never promotes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warden.core.agreement import AgreementRate
from warden.core.gates import GateStatus, canary_gate, shadow_gate
from warden.core.readiness import CheckStatus, ReadinessItem, ReadinessReport
from warden.core.slo import SloResult, SloStatus
from warden.core.spec import CanaryGate, ShadowGate

NOW = datetime(2026, 2, 1, tzinfo=UTC)
SHADOW = ShadowGate(min_runs=200, min_agreement=0.85, min_days=14)
CANARY = CanaryGate(traffic=0.1, min_runs=200, clean_days=14)


def ready(ok: bool = True) -> ReadinessReport:
    status = CheckStatus.PASS if ok else CheckStatus.FAIL
    return ReadinessReport(
        agent="a",
        spec_version="1",
        at=NOW,
        items=[ReadinessItem(name="eval_set", status=status, detail="x")],
    )


def rate(agreed: int, compared: int) -> AgreementRate:
    return AgreementRate.of("h", "1", agreed, compared)


def status_of(result, name: str) -> GateStatus:
    return next(c.status for c in result.checks if c.name == name)


def test_too_few_samples_is_inconclusive_even_at_perfect_agreement() -> None:
    result = shadow_gate(SHADOW, rate(199, 199), 30, ready(), NOW)
    assert result.status is GateStatus.INCONCLUSIVE
    assert not result.passed
    assert "199 of 200" in result.summary()
    assert shadow_gate(SHADOW, None, 30, ready(), NOW).status is GateStatus.INCONCLUSIVE


def test_enough_samples_below_the_threshold_fails() -> None:
    result = shadow_gate(SHADOW, rate(160, 200), 30, ready(), NOW)
    assert result.status is GateStatus.FAIL
    assert status_of(result, "agreement") is GateStatus.FAIL


def test_too_few_days_holds() -> None:
    result = shadow_gate(SHADOW, rate(190, 200), 13.9, ready(), NOW)
    assert result.status is GateStatus.INCONCLUSIVE
    assert "wait 0.1 more" in result.summary()


def test_a_failing_readiness_review_fails_the_gate() -> None:
    result = shadow_gate(SHADOW, rate(190, 200), 20, ready(False), NOW)
    assert result.status is GateStatus.FAIL
    assert "eval_set" in result.summary()


def test_the_shadow_gate_passes_when_everything_holds() -> None:
    result = shadow_gate(SHADOW, rate(170, 200), 14, ready(), NOW)
    assert result.passed
    assert "95% CI" in next(c.detail for c in result.checks if c.name == "agreement")


def slo(status: SloStatus) -> SloResult:
    return SloResult(
        name="routing",
        metric="success_rate",
        objective=0.9,
        value=0.95,
        samples=300,
        status=status,
        detail="d",
    )


@pytest.mark.parametrize(
    ("runs", "clean", "slos", "expected"),
    [
        (150, 20, [slo(SloStatus.PASS)], GateStatus.INCONCLUSIVE),
        (300, 5, [slo(SloStatus.PASS)], GateStatus.INCONCLUSIVE),
        (300, 20, [slo(SloStatus.INCONCLUSIVE)], GateStatus.INCONCLUSIVE),
        (300, 20, [slo(SloStatus.FAIL)], GateStatus.FAIL),
        (100, 1, [slo(SloStatus.FAIL)], GateStatus.FAIL),
        (300, 20, [slo(SloStatus.PASS)], GateStatus.PASS),
        (300, 20, [], GateStatus.PASS),
    ],
)
def test_canary_gate(runs: int, clean: float, slos, expected: GateStatus) -> None:
    assert canary_gate(CANARY, runs, clean, 0, slos, NOW).status is expected


def test_canary_trips_are_named() -> None:
    result = canary_gate(CANARY, 300, 2, 1, [], NOW)
    assert result.status is GateStatus.INCONCLUSIVE
    assert "kill-criterion trip" in result.summary()
