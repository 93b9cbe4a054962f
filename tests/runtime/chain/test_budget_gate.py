"""The budget gate: each tool call is charged one step and one tool call; the call that
would cross a per-run limit is refused before it proceeds, and charges nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRun, RecordingProceed, call_context
from warden.errors import BudgetExceeded, PolicyDenied
from warden.runtime.chain import BudgetGate


def _run(**per_run: Any) -> FakeRun:
    return FakeRun(make_spec({"lookup": {"access": "read"}}, budgets={"per_run": per_run}))


def test_a_call_is_charged_one_step_and_one_tool_call(proceed: RecordingProceed) -> None:
    run = _run()
    ctx = call_context(run, "lookup")
    assert BudgetGate()(ctx, proceed) == "done"
    assert proceed.calls == [ctx]
    assert (run.usage.steps, run.usage.tool_calls) == (1, 1)


def test_the_call_that_would_cross_max_tool_calls_is_refused(proceed: RecordingProceed) -> None:
    run = _run(max_tool_calls=2)
    gate = BudgetGate()
    gate(call_context(run, "lookup", seq=1), proceed)
    gate(call_context(run, "lookup", seq=2), proceed)  # reaches the limit: allowed
    with pytest.raises(BudgetExceeded) as info:
        gate(call_context(run, "lookup", seq=3), proceed)
    assert (info.value.limit, info.value.used, info.value.allowed) == (
        "per_run.max_tool_calls",
        3,
        2,
    )
    assert len(proceed.calls) == 2
    assert (run.usage.steps, run.usage.tool_calls) == (2, 2)  # the refused call is not charged


def test_model_calls_count_as_steps(proceed: RecordingProceed) -> None:
    run = _run(max_steps=3)
    run.usage.steps = 3  # three model calls so far
    with pytest.raises(BudgetExceeded) as info:
        BudgetGate()(call_context(run, "lookup"), proceed)
    assert (info.value.limit, info.value.used, info.value.allowed) == ("per_run.max_steps", 4, 3)
    assert not proceed.called
    assert (run.usage.steps, run.usage.tool_calls) == (3, 0)


def test_wall_clock_comes_from_the_run(proceed: RecordingProceed) -> None:
    run = _run(max_wall_clock_s=60)
    run.elapsed_s = 60.0  # at the limit: still allowed
    BudgetGate()(call_context(run, "lookup"), proceed)
    run.elapsed_s = 60.5
    with pytest.raises(BudgetExceeded) as info:
        BudgetGate()(call_context(run, "lookup", seq=2), proceed)
    assert info.value.limit == "per_run.max_wall_clock_s"
    assert info.value.used == 60.5
    assert len(proceed.calls) == 1


@pytest.mark.parametrize(
    ("per_run", "spent", "limit"),
    [
        ({"max_tokens": 500}, {"input_tokens": 450, "output_tokens": 51}, "per_run.max_tokens"),
        ({"max_cost_usd": 0.01}, {"cost_usd": 0.011}, "per_run.max_cost_usd"),
    ],
)
def test_spent_tokens_or_cost_refuse_the_next_tool_call(
    proceed: RecordingProceed, per_run: dict[str, Any], spent: dict[str, Any], limit: str
) -> None:
    run = _run(**per_run)
    for name, value in spent.items():
        setattr(run.usage, name, value)
    with pytest.raises(BudgetExceeded) as info:
        BudgetGate()(call_context(run, "lookup"), proceed)
    assert info.value.limit == limit
    assert not proceed.called


def test_limits_are_the_runs_own(proceed: RecordingProceed) -> None:
    run = _run(max_tool_calls=100)
    run.limits = run.limits.model_copy(update={"max_tool_calls": 1})
    BudgetGate()(call_context(run, "lookup"), proceed)
    with pytest.raises(BudgetExceeded):
        BudgetGate()(call_context(run, "lookup", seq=2), proceed)


def test_a_call_stopped_further_down_the_chain_is_still_charged() -> None:
    run = _run(max_tool_calls=5)
    denied = RecordingProceed(outcomes=[PolicyDenied("lookup", "access", "no")])
    with pytest.raises(PolicyDenied):
        BudgetGate()(call_context(run, "lookup"), denied)
    assert (run.usage.steps, run.usage.tool_calls) == (1, 1)  # "whatever their decision"
