"""Budgets: what a run has used (``Usage``), the per-run limits checked before each step,
the per-day check at run start, and a breach ending the run through a governor."""

from __future__ import annotations

import pytest

from warden import BudgetExceeded, RunStatus
from warden.core.spec import DailyBudget, RunBudget
from warden.runtime.budget import Usage, check_daily


def test_usage_starts_empty_and_counts_tokens_in_and_out() -> None:
    usage = Usage()
    assert (usage.steps, usage.tool_calls, usage.tokens, usage.cost_usd) == (0, 0, 0, 0.0)
    usage.input_tokens, usage.output_tokens = 420, 31
    assert usage.tokens == 451


def test_no_limits_never_refuse() -> None:
    usage = Usage(steps=10_000, tool_calls=10_000, input_tokens=10**9, cost_usd=1e6)
    usage.check_before_step(RunBudget(), tool=True, elapsed_s=1e9)
    usage.check_spend(RunBudget())


def test_the_step_that_would_cross_max_steps_is_refused() -> None:
    limits = RunBudget(max_steps=3)
    Usage(steps=2).check_before_step(limits, tool=False, elapsed_s=0)  # the 3rd step
    with pytest.raises(BudgetExceeded) as info:
        Usage(steps=3).check_before_step(limits, tool=False, elapsed_s=0)
    assert (info.value.limit, info.value.used, info.value.allowed) == ("per_run.max_steps", 4, 3)
    assert str(info.value) == "budget per_run.max_steps exceeded: used 4 of 3"


def test_max_tool_calls_applies_to_tool_steps_only() -> None:
    limits = RunBudget(max_tool_calls=2)
    usage = Usage(steps=2, tool_calls=2)
    usage.check_before_step(limits, tool=False, elapsed_s=0)  # a model call may still go
    with pytest.raises(BudgetExceeded) as info:
        usage.check_before_step(limits, tool=True, elapsed_s=0)
    assert (info.value.limit, info.value.used) == ("per_run.max_tool_calls", 3)


def test_steps_are_checked_before_tool_calls() -> None:
    with pytest.raises(BudgetExceeded) as info:
        Usage(steps=5, tool_calls=5).check_before_step(
            RunBudget(max_steps=5, max_tool_calls=5), tool=True, elapsed_s=0
        )
    assert info.value.limit == "per_run.max_steps"


def test_wall_clock_is_refused_only_past_the_limit() -> None:
    limits = RunBudget(max_wall_clock_s=60)
    Usage().check_before_step(limits, tool=True, elapsed_s=60)
    with pytest.raises(BudgetExceeded) as info:
        Usage().check_before_step(limits, tool=True, elapsed_s=60.0004)
    assert (info.value.limit, info.value.used, info.value.allowed) == (
        "per_run.max_wall_clock_s",
        60.0,  # rounded to the millisecond
        60,
    )


def test_spend_is_refused_once_over_not_at_the_limit() -> None:
    tokens = RunBudget(max_tokens=500)
    Usage(input_tokens=400, output_tokens=100).check_spend(tokens)
    with pytest.raises(BudgetExceeded) as info:
        Usage(input_tokens=400, output_tokens=101).check_spend(tokens)
    assert (info.value.limit, info.value.used) == ("per_run.max_tokens", 501)
    cost = RunBudget(max_cost_usd=0.5)
    Usage(cost_usd=0.5).check_spend(cost)
    with pytest.raises(BudgetExceeded) as info:
        Usage(cost_usd=0.51).check_spend(cost)
    assert info.value.limit == "per_run.max_cost_usd"


def test_a_step_also_checks_what_was_spent() -> None:
    with pytest.raises(BudgetExceeded) as info:
        Usage(cost_usd=2.0).check_before_step(RunBudget(max_cost_usd=1), tool=True, elapsed_s=0)
    assert info.value.limit == "per_run.max_cost_usd"


def test_daily_runs_refuse_the_run_that_would_cross_the_limit() -> None:
    limits = DailyBudget(max_runs=3)
    check_daily(limits, runs_today=2, cost_today_usd=0)
    with pytest.raises(BudgetExceeded) as info:
        check_daily(limits, runs_today=3, cost_today_usd=0)
    assert (info.value.limit, info.value.used, info.value.allowed) == ("per_day.max_runs", 4, 3)


def test_daily_cost_refuses_new_runs_once_the_limit_is_reached() -> None:
    limits = DailyBudget(max_cost_usd=10)
    check_daily(limits, runs_today=100, cost_today_usd=9.99)
    with pytest.raises(BudgetExceeded) as info:
        check_daily(limits, runs_today=0, cost_today_usd=10)  # at the limit: no new run
    assert info.value.limit == "per_day.max_cost_usd"
    check_daily(DailyBudget(), runs_today=10**6, cost_today_usd=10**6)


# -- through a governor ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "escalate_on", "expected"),
    [
        ({"max_tool_calls": 2}, ["budget_exceeded"], RunStatus.ESCALATED),
        ({"max_tool_calls": 2}, [], RunStatus.FAILED),
        ({"max_tokens": 500}, ["budget_exceeded"], RunStatus.ESCALATED),
        ({"max_cost_usd": 0.0001}, ["budget_exceeded"], RunStatus.ESCALATED),
        ({"max_steps": 3}, ["budget_exceeded"], RunStatus.ESCALATED),
    ],
)
def test_budget_breach_stops_the_run(
    make_governor, spec_factory, store, budget, escalate_on, expected
) -> None:
    spec = spec_factory(
        {"lookup_customer": {"access": "read"}},
        budgets={"per_run": budget},
        escalation={"queue": "tier1-humans", "on": escalate_on},
    )
    gov = make_governor(spec)
    executed: list[int] = []

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        executed.append(1)
        return "ok"

    with gov.run(input="x") as run:
        for i in range(10):
            run.call("lookup_customer", customer_id=f"c{i}")
            run.record_model_call(model="gpt-4o", input_tokens=300, output_tokens=50)
        run.resolve()  # never reached
    assert run.status is expected
    assert isinstance(run.error, BudgetExceeded)
    assert len(executed) < 10
    gov.flush()
    handoffs = store.list_handoffs()
    if expected is RunStatus.ESCALATED:
        assert len(handoffs) == 1
        assert handoffs[0].trigger == "budget_exceeded"
        assert "budget" in handoffs[0].reason
    else:
        assert handoffs == []


def test_wall_clock_budget_uses_the_injected_clock(make_governor, spec_factory, clock) -> None:
    spec = spec_factory(
        {"lookup_customer": {"access": "read"}}, budgets={"per_run": {"max_wall_clock_s": 60}}
    )
    gov = make_governor(spec)

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        clock.advance(25)
        return "ok"

    with gov.run(input="x") as run:
        for i in range(5):
            run.call("lookup_customer", customer_id=f"c{i}")
    assert run.status is RunStatus.ESCALATED
    assert run.error.limit == "per_run.max_wall_clock_s"


def test_daily_run_budget_blocks_new_runs(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}, budgets={"per_day": {"max_runs": 2}}))
    for _ in range(2):
        with gov.run(input="x") as run:
            run.resolve()
    with pytest.raises(BudgetExceeded) as info, gov.run(input="x"):
        pytest.fail("the body must not run once the daily budget is spent")
    assert info.value.limit == "per_day.max_runs"
