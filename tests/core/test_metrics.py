"""Run metrics over a window: rates, cost per completed run, p95 latency, no data is None."""

from __future__ import annotations

import pytest

from warden.core.agreement import AgreementRate
from warden.core.metrics import (
    LATENCY_BOUNDS_S,
    RunSample,
    RunTotals,
    latency_bin,
    measure,
    percentile,
)
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
    # p95 comes from the duration histogram: within one bin (25 %) of the exact value
    assert m.value == pytest.approx(value, rel=0.25 if metric == "latency_p95_s" else 1e-9)
    assert m.samples == samples
    assert measure(metric, RunTotals.of(RUNS)) == m  # totals and runs measure the same


def test_totals_add_up_like_their_runs() -> None:
    halves = RunTotals.of(RUNS[:3]) + RunTotals.of(RUNS[3:])
    assert halves == RunTotals.of(RUNS)
    assert (halves.finished, halves.killed, halves.fallback, halves.ended) == (4, 1, 1, 6)
    assert RunTotals.sum([]) == RunTotals()


@pytest.mark.parametrize("spread", [0.003, 0.2, 1.0, 7.5, 60.0, 900.0])
def test_histogram_percentiles_are_within_a_bin_of_the_exact_ones(spread: float) -> None:
    import random

    rng = random.Random(7)
    values = [rng.uniform(0.001, spread) for _ in range(2_000)]
    runs = [sample(i, RunStatus.RESOLVED, latency_s=v) for i, v in enumerate(values)]
    totals = RunTotals.of(runs)
    for q in (50, 95, 99):
        exact = percentile(values, q)
        estimate = totals.latency_percentile(q)
        assert estimate is not None
        assert abs(estimate - exact) <= max(0.25 * exact, 0.01), (q, exact, estimate)


def test_durations_past_the_last_bound_read_as_the_last_bound() -> None:
    totals = RunTotals.of([sample(1, RunStatus.RESOLVED, latency_s=10_000.0)])
    assert totals.latency_percentile(95) == LATENCY_BOUNDS_S[-1]
    assert latency_bin(0.0) == 0 and latency_bin(10_000.0) == len(LATENCY_BOUNDS_S)


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
