"""A run: from its input to exactly one terminal state, through a governor. How each
ending is reached (resolve, escalate with a handoff, an uncaught Warden error, the agent's
own bug, leaving the block) and what a run refuses once it ended."""

from __future__ import annotations

import pytest

from tests.runtime.specs import router_tools
from warden import ConfigError, PolicyDenied, RunStateError, RunStatus


def test_uncaught_denial_ends_the_run_blocked_or_escalated(
    make_governor, spec_factory, store
) -> None:
    spec = spec_factory(router_tools(), escalation={"queue": "tier1-humans", "on": []})
    gov = make_governor(spec)
    with gov.run(input="x") as run:
        run.call("issue_refund", amount=1)
    assert run.status is RunStatus.BLOCKED
    assert isinstance(run.error, PolicyDenied)

    spec2 = spec_factory(
        router_tools(), escalation={"queue": "tier1-humans", "on": ["policy_denied"]}
    )
    gov2 = make_governor(spec2)
    with gov2.run(input="x") as run2:
        run2.call("issue_refund", amount=1)
    assert run2.status is RunStatus.ESCALATED
    gov2.flush()
    (handoff,) = store.list_handoffs("tier1-humans")
    assert handoff.run_id == run2.id
    assert handoff.trigger == "policy_denied"
    assert handoff.input == "x"
    assert "issue_refund" in handoff.steps[0]


def test_tool_failing_after_retries_escalates_with_handoff(
    make_governor, spec_factory, store
) -> None:
    gov = make_governor(spec_factory({"lookup_customer": {"access": "read", "max_attempts": 3}}))
    calls: list[int] = []

    @gov.tool
    def lookup_customer(customer_id: str) -> dict[str, str]:
        calls.append(1)
        raise TimeoutError("crm timed out")

    with gov.run(input="where is my card") as run:
        run.call("lookup_customer", customer_id="c1")
    assert len(calls) == 3
    assert run.status is RunStatus.ESCALATED
    gov.flush()
    (handoff,) = store.list_handoffs()
    assert handoff.trigger == "tool_failed"
    assert "crm timed out" in (handoff.last_error or "")


def test_leaving_the_block_without_an_ending_fails_the_run(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    with gov.run(input="x") as run:
        pass
    assert run.status is RunStatus.FAILED
    assert "without resolving" in run.reason


def test_agent_bug_is_recorded_and_reraised(make_governor, spec_factory, store) -> None:
    gov = make_governor(spec_factory({}))
    with pytest.raises(ZeroDivisionError), gov.run(input="x") as run:
        _ = 1 / 0
    assert run.status is RunStatus.FAILED
    gov.flush()
    assert store.get_run(run.id).run.status is RunStatus.FAILED


def test_low_confidence_escalates_with_a_handoff(make_governor, spec_factory, store) -> None:
    gov = make_governor(
        spec_factory({}, escalation={"queue": "tier1-humans", "confidence_threshold": 0.6})
    )
    with gov.run(input="weird ticket") as run:
        if run.check_confidence(0.31, output={"queue": "card_arrival"}):
            run.resolve()
    assert run.status is RunStatus.ESCALATED
    gov.flush()
    (handoff,) = store.list_handoffs("tier1-humans")
    assert handoff.trigger == "low_confidence"
    assert "0.31" in handoff.reason


def test_run_state_errors(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    run = gov.run(input="x")
    with pytest.raises(RunStateError):
        run.call("anything")
    with run:
        run.resolve()
    with pytest.raises(RunStateError):
        run.resolve()


def test_run_errors_are_re_raised_when_asked(make_governor, spec_factory) -> None:
    gov = make_governor(
        spec_factory(router_tools(), escalation={"queue": "q", "on": []}), raise_run_errors=True
    )
    with pytest.raises(PolicyDenied), gov.run(input="x") as run:
        run.call("issue_refund", amount=1)
    assert run.status is RunStatus.BLOCKED


def test_resolve_records_the_output(make_governor, spec_factory, store) -> None:
    gov = make_governor(spec_factory({}))
    with gov.run(input="x") as run:
        run.resolve(output={"queue": "card_arrival"})
    assert (run.status, run.output, run.reason) == (
        RunStatus.RESOLVED,
        {"queue": "card_arrival"},
        "The agent completed the task.",
    )
    gov.flush()
    assert store.get_run(run.id).run.output == {"queue": "card_arrival"}


def test_escalate_hands_the_trail_to_the_queue(make_governor, spec_factory, store) -> None:
    gov = make_governor(spec_factory(router_tools()))

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        return "gold"

    with gov.run(input="odd ticket") as run:
        run.call("lookup_customer", customer_id="c1")
        run.escalate("the customer asks for a manager")
    assert run.status is RunStatus.ESCALATED
    assert run.reason == "Handed to tier1-humans: the customer asks for a manager"
    gov.flush()
    (handoff,) = store.list_handoffs("tier1-humans")
    assert (handoff.trigger, handoff.input) == ("manual", "odd ticket")
    assert handoff.steps == run.trail
    assert handoff.steps[0].startswith("1. lookup_customer(")


def test_escalate_needs_an_escalation_queue(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}, escalation=None))
    with gov.run(input="x") as run:
        with pytest.raises(ConfigError, match="no escalation queue"):
            run.escalate("help")
        run.resolve()
    assert run.status is RunStatus.RESOLVED


def test_confidence_at_the_threshold_goes_on(make_governor, spec_factory) -> None:
    gov = make_governor(
        spec_factory({}, escalation={"queue": "tier1-humans", "confidence_threshold": 0.6})
    )
    with gov.run(input="x") as run:
        assert run.check_confidence(0.6)
        run.resolve()
    assert run.status is RunStatus.RESOLVED


def test_an_interrupted_process_ends_the_run_interrupted(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    with pytest.raises(KeyboardInterrupt), gov.run(input="x") as run:
        raise KeyboardInterrupt
    assert (run.status, run.error_code) == (RunStatus.INTERRUPTED, "run.interrupted")


def test_a_run_cannot_be_entered_twice_or_used_after_it_ended(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory(router_tools()))
    with gov.run(input="x") as run:
        run.resolve()
    with pytest.raises(RunStateError, match="already started"), run:
        pytest.fail("must not run twice")
    with pytest.raises(RunStateError, match="already ended"):
        run.call("lookup_customer", customer_id="c1")
    with pytest.raises(RunStateError, match="already ended"):
        run.record_model_call(model="gpt-4o-mini", input_tokens=1)
    with pytest.raises(RunStateError, match="already ended"):
        run.escalate("too late")
