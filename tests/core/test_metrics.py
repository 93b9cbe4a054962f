"""Run metrics over a window: rates, cost per completed run, p95 latency, no data is None."""

from __future__ import annotations

import pytest

from warden.core.agreement import AgreementRate
from warden.core.metrics import RunSample, measure, percentile
from warden.core.runs import RunMode, RunStatus


def sample(i: int, status: RunStatus, mode: RunMode = RunMode.LIVE, **kw) -> RunSample:
    return RunSample(run_id=f"r{i}", status=status, mode=mode, **kw)


RUNS = [
    sample(1, RunStatus.RESOLVED, latency_s=1.0, cost_usd=0.02, tool_calls=3),
    sample(2, RunStatus.RESOLVED, latency_s=2.0, cost_usd=0.02, tool_calls=3, denied_calls=1),
    sample(3, RunStatus.ESCALATED, latency_s=3.0, cost_usd=0.01, tool_calls=2, failed_calls=2),
    sample(4, RunStatus.FAILED, latency_s=10.0, cost_usd=0.01, tool_calls=2, failed_calls=1),
    sample(5, RunStatus.KILLED, latency_s=0.1, tool_calls=9, failed_calls=9),  # not counted
    sample(6, RunStatus.ESCALATED, RunMode.FALLBACK),  # not the agent's run
]


@pytest.mark.parametrize(
    ("metric", "value", "samples"),
    [
        ("error_rate", 0.25, 4),
        ("escalation_rate", 0.25, 4),
        ("success_rate", 0.5, 4),
        ("policy_denial_rate", 0.1, 10),
        ("tool_failure_rate", 0.3, 10),
        ("cost_per_completed_usd", 0.03, 2),
        ("latency_p95_s", 10.0, 4),
    ],
)
def test_metrics(metric: str, value: float, samples: int) -> None:
    m = measure(metric, RUNS)
    assert m.value == pytest.approx(value)
    assert m.samples == samples


def test_no_samples_means_no_value_not_zero() -> None:
    for metric in ("error_rate", "tool_failure_rate", "cost_per_completed_usd", "latency_p95_s"):
        assert measure(metric, []).value is None
    assert measure("shadow_agreement", []).value is None
    agreement = AgreementRate.of("h", "1", 6, 10)
    assert measure("shadow_agreement", [], agreement).value == pytest.approx(0.6)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0], 50) == 1.0


def test_unknown_metric() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        measure("happiness", RUNS)
