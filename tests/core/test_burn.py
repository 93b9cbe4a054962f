"""Error budgets and multi-window burn-rate alerts (``core.burn``), on hand-made totals.

The numbers follow the SRE Workbook ch. 5: burn rate = bad ratio / allowed ratio; an alert
fires only when both its windows burn faster than its rate."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.conftest import make_spec
from warden.core.burn import (
    LATENCY_ALLOWED_RATIO,
    allowed_ratio,
    bad_events,
    burn_rate,
    evaluate_burn,
    windows_of,
)
from warden.core.metrics import LATENCY_BOUNDS_S, RunTotals
from warden.core.spec import DEFAULT_BURN_ALERTS, Slo

HOUR = 3600.0


def slo(**over: Any) -> Slo:
    return Slo.model_validate(
        {"name": "resolved", "metric": "success_rate", "objective": 0.95, **over}
    )


def runs(resolved: int, failed: int = 0, escalated: int = 0) -> RunTotals:
    return RunTotals(
        finished=resolved + failed + escalated,
        resolved=resolved,
        errored=failed,
        escalated=escalated,
    )


def same_everywhere(s: Slo, totals: RunTotals) -> dict[float, RunTotals]:
    return dict.fromkeys(windows_of(s), totals)


def test_allowed_ratio_per_metric() -> None:
    assert allowed_ratio(slo()) == pytest.approx(0.05)
    assert allowed_ratio(slo(metric="error_rate", objective=0.1)) == pytest.approx(0.1)
    assert allowed_ratio(slo(metric="escalation_rate", objective=0.3)) == pytest.approx(0.3)
    assert allowed_ratio(slo(metric="latency_p95_s", objective=2)) == LATENCY_ALLOWED_RATIO
    assert allowed_ratio(slo(objective=1.0)) is None  # no budget at all
    assert allowed_ratio(slo(metric="error_rate", objective=0)) is None


def test_burn_rate_is_the_bad_ratio_over_the_allowed_one() -> None:
    assert burn_rate(slo(), runs(62, 38)) == pytest.approx(7.6)
    assert burn_rate(slo(metric="error_rate", objective=0.1), runs(80, 20)) == pytest.approx(2)
    assert burn_rate(slo(metric="escalation_rate", objective=0.2), runs(90, 0, 10)) == (
        pytest.approx(0.5)
    )
    assert burn_rate(slo(), RunTotals()) is None  # no events: no rate, never zero


def test_62_percent_against_95_burns_7_6x_pages_at_6x_not_14_4x() -> None:
    s = slo()
    burn = evaluate_burn(s, same_everywhere(s, runs(62, 38)))
    assert burn.value == pytest.approx(0.62)
    assert burn.burn_rate == pytest.approx(7.6)
    assert burn.budget_remaining == pytest.approx(1 - 7.6)  # overspent 6.6 budgets
    fired = [(a.alert.burn_rate, a.alert.severity) for a in burn.firing]
    assert fired == [(6, "page"), (1, "ticket")]


def test_a_fast_burn_fires_every_default_alert() -> None:
    s = slo()
    burn = evaluate_burn(s, same_everywhere(s, runs(20, 80)))
    assert [a.alert.burn_rate for a in burn.firing] == [14.4, 6, 1]


def test_both_windows_must_burn() -> None:
    s = slo()
    totals = same_everywhere(s, runs(20, 80))
    totals[300.0] = runs(30)  # the last 5 minutes recovered
    burn = evaluate_burn(s, totals)
    one_hour = burn.alerts[0]
    assert one_hour.long_burn == pytest.approx(16)
    assert one_hour.short_burn == 0
    assert not one_hour.firing


def test_too_few_runs_never_fire() -> None:
    s = slo()
    burn = evaluate_burn(s, same_everywhere(s, runs(1, 1)))
    assert burn.firing == []
    assert "held: 2 of 20 runs" in burn.alerts[1].detail  # 10x > 6x, too few
    assert evaluate_burn(slo(min_runs=2), same_everywhere(s, runs(1, 1))).firing


def test_a_healthy_agent_spends_little_budget() -> None:
    s = slo()
    burn = evaluate_burn(s, same_everywhere(s, runs(99, 1)))
    assert burn.firing == []
    assert burn.budget_remaining == pytest.approx(0.8)
    assert burn.burn_rate == pytest.approx(0.2)


def test_no_budget_means_no_alerts_and_a_note() -> None:
    s = slo(objective=1.0)
    burn = evaluate_burn(s, same_everywhere(s, runs(0, 100)))
    assert burn.firing == [] and burn.burn_rate is None and burn.budget_remaining is None
    assert "no error budget" in burn.note


def test_latency_counts_runs_slower_than_the_objective_from_the_histogram() -> None:
    objective = LATENCY_BOUNDS_S[20]  # on a bin edge: its own bin is wholly fast
    s = slo(metric="latency_p95_s", objective=objective)
    totals = RunTotals(finished=100, latency={20: 90, 21: 6, 30: 4})
    counted = bad_events(s, totals)
    assert (counted.events, counted.bad) == (100, 10)
    assert burn_rate(s, totals) == pytest.approx(2)
    # Inside a bin: the share of the bin above the objective (linear), error <= that bin.
    low, high = LATENCY_BOUNDS_S[20], LATENCY_BOUNDS_S[21]
    mid = slo(metric="latency_p95_s", objective=(low + high) / 2)
    assert bad_events(mid, totals).bad == pytest.approx(3 + 4)


def test_windows_are_read_once_each() -> None:
    assert windows_of(slo()) == [300, 1800, HOUR, 6 * HOUR, 3 * 24 * HOUR, 30 * 24 * HOUR]
    custom = slo(
        alerts=[{"long_window_s": HOUR, "short_window_s": 300, "burn_rate": 10}], window_days=7
    )
    assert windows_of(custom) == [300, HOUR, 7 * 24 * HOUR]


def test_the_defaults_are_the_sre_workbook_alerts() -> None:
    got = [
        (a.long_window_s, a.short_window_s, a.burn_rate, a.severity) for a in DEFAULT_BURN_ALERTS
    ]
    assert got == [
        (HOUR, 300, 14.4, "page"),
        (6 * HOUR, 1800, 6, "page"),
        (3 * 24 * HOUR, 6 * HOUR, 1, "ticket"),
    ]
    assert slo().burn_alerts == DEFAULT_BURN_ALERTS
    assert slo(alerts=[]).burn_alerts == ()


def test_a_spec_without_alerts_keeps_its_hash() -> None:
    plain = {"name": "resolved", "metric": "success_rate", "objective": 0.95}
    spec = make_spec(slos=[plain])
    assert '"slos":[{"metric":"success_rate","name":"resolved","objective":0.95}]' in (
        spec.canonical_json()
    )
    spelled = make_spec(slos=[{**plain, "min_runs": 20}])
    assert spelled.content_hash() == spec.content_hash()
    custom = make_spec(
        slos=[{**plain, "alerts": [{"long_window_s": HOUR, "short_window_s": 300, "burn_rate": 9}]}]
    )
    assert custom.content_hash() != spec.content_hash()


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ({"long_window_s": 300, "short_window_s": 300, "burn_rate": 2}, "must be shorter"),
        ({"long_window_s": 40 * 86400, "short_window_s": 300, "burn_rate": 2}, "longer than"),
        ({"long_window_s": HOUR, "short_window_s": 300, "burn_rate": 0}, "greater than 0"),
        ({"long_window_s": HOUR, "short_window_s": 300, "severity": "sms"}, "severity"),
    ],
)
def test_invalid_alerts_are_refused(alert: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        slo(alerts=[{"burn_rate": 2, **alert}])


def test_duplicate_alerts_are_refused() -> None:
    a = {"long_window_s": HOUR, "short_window_s": 300, "burn_rate": 2}
    with pytest.raises(ValidationError, match="duplicate"):
        slo(alerts=[a, {**a, "severity": "ticket"}])
