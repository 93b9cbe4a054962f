"""Retries: read and idempotent tools are retried up to ``max_attempts`` with exponential
backoff and jitter on the injected clock, checking the kill switch before every retry; a
write is never retried, and Warden's own errors are not retried."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import (
    FakeKillSwitch,
    FakeRun,
    RecordingProceed,
    SleepRecordingClock,
    call_context,
)
from warden.errors import (
    KillSwitchEngaged,
    PolicyDenied,
    StoreUnavailable,
    ToolExecutionError,
    ToolOutputError,
    ToolRegistrationError,
    ToolTimeoutError,
)
from warden.runtime.chain import Retry
from warden.runtime.chain.retry import INITIAL_WAIT_S, MAX_WAIT_S

SPEC = make_spec(
    {
        "lookup": {"access": "read", "max_attempts": 3},
        "lookup_once": {"access": "read", "max_attempts": 1},
        "lookup_hard": {"access": "read", "max_attempts": 8},
        "route_ticket": {"access": "write", "idempotent": True, "max_attempts": 3},
        "send_email": {"access": "write", "max_attempts": 5},
    }
)


@pytest.fixture
def sleepy() -> SleepRecordingClock:
    return SleepRecordingClock()


@pytest.fixture
def retry(kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock) -> Retry:
    return Retry(kill_switch, sleepy)


def _failing(n: int, then: Any = "done") -> RecordingProceed:
    return RecordingProceed(then, outcomes=[ConnectionError(f"crm down {i}") for i in range(n)])


def test_a_first_success_is_not_retried(
    retry: Retry, kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock
) -> None:
    proceed = RecordingProceed("gold")
    assert retry(call_context(FakeRun(SPEC), "lookup"), proceed) == "gold"
    assert len(proceed.calls) == 1
    assert kill_switch.checks == []
    assert sleepy.sleeps == []


@pytest.mark.parametrize("tool", ["lookup", "route_ticket"])
def test_reads_and_idempotent_writes_are_retried_until_they_succeed(
    retry: Retry, kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock, tool: str
) -> None:
    proceed = _failing(2, then="gold")
    ctx = call_context(FakeRun(SPEC), tool)
    assert retry(ctx, proceed) == "gold"
    assert len(proceed.calls) == 3
    assert ctx.attempts == 3
    assert kill_switch.checks == [True, True]  # fresh, before each retry
    first, second = sleepy.sleeps
    assert INITIAL_WAIT_S <= first <= 2 * INITIAL_WAIT_S
    assert 2 * INITIAL_WAIT_S <= second <= 3 * INITIAL_WAIT_S


def test_after_max_attempts_the_last_error_is_a_tool_error(
    retry: Retry, kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock
) -> None:
    proceed = _failing(10)
    ctx = call_context(FakeRun(SPEC), "lookup")
    with pytest.raises(ToolExecutionError) as info:
        retry(ctx, proceed)
    assert len(proceed.calls) == 3
    assert str(info.value) == "lookup failed after 3 attempt(s): ConnectionError: crm down 2"
    assert isinstance(info.value.__cause__, ConnectionError)
    assert kill_switch.checks == [True, True]
    assert len(sleepy.sleeps) == 2


def test_waits_grow_exponentially_with_jitter_up_to_the_cap(
    retry: Retry, sleepy: SleepRecordingClock
) -> None:
    with pytest.raises(ToolExecutionError):
        retry(call_context(FakeRun(SPEC), "lookup_hard"), _failing(10))
    assert len(sleepy.sleeps) == 7
    assert INITIAL_WAIT_S <= sleepy.sleeps[0] <= 2 * INITIAL_WAIT_S
    for i, waited in enumerate(sleepy.sleeps[1:]):
        base = min(2 * INITIAL_WAIT_S * 2**i, MAX_WAIT_S)
        assert base <= waited <= base + INITIAL_WAIT_S, (i, waited)
    assert sleepy.monotonic() == pytest.approx(sum(sleepy.sleeps))  # only the fake clock waited


@pytest.mark.parametrize("tool", ["send_email", "lookup_once", "not_in_the_spec"])
def test_a_write_or_a_single_attempt_tool_is_never_retried(
    retry: Retry, kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock, tool: str
) -> None:
    proceed = _failing(1)
    with pytest.raises(ToolExecutionError, match="failed after 1 attempt") as info:
        retry(call_context(FakeRun(SPEC), tool), proceed)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert len(proceed.calls) == 1
    assert kill_switch.checks == []
    assert sleepy.sleeps == []


def test_the_kill_switch_stops_the_retries(
    retry: Retry, kill_switch: FakeKillSwitch, sleepy: SleepRecordingClock
) -> None:
    kill_switch.engage()
    proceed = _failing(5)
    with pytest.raises(KillSwitchEngaged):
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert len(proceed.calls) == 1
    assert sleepy.sleeps == []  # no wait once killed


def test_a_kill_between_retries_stops_the_next_one(
    retry: Retry, kill_switch: FakeKillSwitch
) -> None:
    kill_switch.engage_on_check = 3
    proceed = _failing(10)
    with pytest.raises(KillSwitchEngaged):
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert len(proceed.calls) == 3
    assert kill_switch.checks == [True, True, True]


@pytest.mark.parametrize(
    "error",
    [
        ToolOutputError("lookup: invalid result: value is not an int"),
        PolicyDenied("lookup", "access", "no"),
        StoreUnavailable("store unreachable"),
    ],
)
def test_wardens_own_errors_pass_through_unretried(
    retry: Retry, sleepy: SleepRecordingClock, error: Exception
) -> None:
    proceed = RecordingProceed(outcomes=[error])
    with pytest.raises(type(error)) as info:
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert info.value is error
    assert len(proceed.calls) == 1
    assert sleepy.sleeps == []


def test_a_non_retryable_error_on_a_retry_ends_the_retries(retry: Retry) -> None:
    invalid = ToolOutputError("lookup: invalid result")
    proceed = RecordingProceed(outcomes=[ConnectionError("blip"), invalid, ConnectionError("x")])
    with pytest.raises(ToolOutputError) as info:
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert info.value is invalid
    assert len(proceed.calls) == 2


def test_a_kill_raised_by_the_tool_is_not_retried(retry: Retry) -> None:
    proceed = RecordingProceed(
        outcomes=[ConnectionError("blip"), KillSwitchEngaged("test-agent", "x")]
    )
    with pytest.raises(KillSwitchEngaged):
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert len(proceed.calls) == 2


def test_a_timeout_is_retried_and_stays_a_timeout(retry: Retry) -> None:
    proceed = RecordingProceed(
        outcomes=[ToolTimeoutError(f"lookup did not return within 1 s ({i})") for i in range(3)]
    )
    with pytest.raises(ToolTimeoutError, match=r"\(2\)"):
        retry(call_context(FakeRun(SPEC), "lookup"), proceed)
    assert len(proceed.calls) == 3


def test_a_missing_function_is_not_retried_and_fails_as_a_tool_error(retry: Retry) -> None:
    missing = ToolRegistrationError("the spec allows 'lookup' but no function is registered")
    proceed = RecordingProceed(outcomes=[missing])
    with pytest.raises(ToolExecutionError, match="no function is registered") as info:
        retry(call_context(FakeRun(SPEC), "lookup_hard"), proceed)
    assert info.value.__cause__ is missing
    assert len(proceed.calls) == 1
