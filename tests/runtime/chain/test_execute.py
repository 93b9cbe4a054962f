"""The end of the chain: the registered function runs once per attempt, within its
timeout, gets the idempotency key when it takes one, and its result is validated."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest
from pydantic import BaseModel

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRun, call_context
from warden.core.runs import ToolCallStatus
from warden.errors import ToolOutputError, ToolRegistrationError, ToolTimeoutError
from warden.runtime.chain import execute as execute_module
from warden.runtime.chain import execute_tool

SPEC = make_spec(
    {
        "lookup": {"access": "read"},
        "route_ticket": {"access": "write", "idempotent": True},
        "slow": {"access": "write", "timeout_s": 0.05},
        "timed": {"access": "read", "timeout_s": 5},
    }
)


class Routed(BaseModel):
    ticket_id: str
    queue: str


def test_the_tool_runs_once_with_its_arguments_and_its_result_is_recorded() -> None:
    seen: list[tuple[str, str]] = []

    def route_ticket(ticket_id: str, queue: str) -> Routed:
        seen.append((ticket_id, queue))
        return Routed(ticket_id=ticket_id, queue=queue)

    ctx = call_context(
        FakeRun(SPEC), "route_ticket", {"ticket_id": "t1", "queue": "q"}, fn=route_ticket
    )
    assert execute_tool(ctx) == Routed(ticket_id="t1", queue="q")
    assert seen == [("t1", "q")]
    assert ctx.attempts == 1
    assert ctx.status is ToolCallStatus.SUCCEEDED
    assert ctx.result_json == {"ticket_id": "t1", "queue": "q"}  # JSON for the record


def test_each_attempt_is_counted() -> None:
    def lookup(customer_id: str) -> str:
        return "gold"

    ctx = call_context(FakeRun(SPEC), "lookup", {"customer_id": "c1"}, fn=lookup)
    execute_tool(ctx)
    execute_tool(ctx)
    assert ctx.attempts == 2


def test_the_idempotency_key_is_passed_when_the_tool_takes_one() -> None:
    keys: list[str | None] = []

    def route_ticket(ticket_id: str, idempotency_key: str | None = None) -> str:
        keys.append(idempotency_key)
        return "ok"

    ctx = call_context(
        FakeRun(SPEC),
        "route_ticket",
        {"ticket_id": "t1"},
        fn=route_ticket,
        idempotency_key="idem_abc",
    )
    execute_tool(ctx)
    assert keys == ["idem_abc"]


def test_a_tool_without_the_parameter_does_not_get_the_key() -> None:
    def route_ticket(ticket_id: str) -> str:  # would fail on an unexpected keyword
        return "ok"

    ctx = call_context(
        FakeRun(SPEC), "route_ticket", {"ticket_id": "t1"}, fn=route_ticket, idempotency_key="k"
    )
    assert execute_tool(ctx) == "ok"


def test_an_invalid_result_is_an_output_error() -> None:
    def lookup(customer_id: str) -> int:
        return "not a number"  # type: ignore[return-value]

    ctx = call_context(FakeRun(SPEC), "lookup", {"customer_id": "c1"}, fn=lookup)
    with pytest.raises(ToolOutputError, match="lookup: invalid result"):
        execute_tool(ctx)
    assert ctx.attempts == 1  # it ran
    assert ctx.status is None  # the run records it as failed
    assert ctx.result_json is None


def test_the_tools_own_error_propagates_unchanged() -> None:
    boom = ConnectionError("crm down")

    def lookup(customer_id: str) -> str:
        raise boom

    ctx = call_context(FakeRun(SPEC), "lookup", {"customer_id": "c1"}, fn=lookup)
    with pytest.raises(ConnectionError) as info:
        execute_tool(ctx)
    assert info.value is boom
    assert ctx.attempts == 1


def test_no_registered_function_is_a_registration_error() -> None:
    ctx = call_context(FakeRun(SPEC), "lookup", {"customer_id": "c1"})
    with pytest.raises(ToolRegistrationError, match="no function is registered"):
        execute_tool(ctx)
    assert ctx.status is ToolCallStatus.NOT_RUN
    assert ctx.attempts == 0


def test_a_tool_past_its_timeout_fails_with_a_timeout() -> None:
    release = threading.Event()

    def slow() -> None:
        release.wait(2)

    ctx = call_context(FakeRun(SPEC), "slow", fn=slow)
    t0 = time.monotonic()
    try:
        with pytest.raises(ToolTimeoutError, match=r"slow did not return within 0\.05 s"):
            execute_tool(ctx)
    finally:
        release.set()
    assert time.monotonic() - t0 < 1.0
    assert ctx.attempts == 1
    assert ctx.status is None


def test_a_tool_within_its_timeout_returns_normally() -> None:
    def timed(x: int) -> int:
        return x * 2

    ctx = call_context(FakeRun(SPEC), "timed", {"x": 21}, fn=timed)
    assert execute_tool(ctx) == 42
    assert ctx.status is ToolCallStatus.SUCCEEDED


def test_a_tool_raising_its_own_timeout_error_is_not_a_warden_timeout() -> None:
    def timed(x: int) -> int:
        raise TimeoutError("crm timed out")

    ctx = call_context(FakeRun(SPEC), "timed", {"x": 1}, fn=timed)
    with pytest.raises(TimeoutError, match="crm timed out"):
        execute_tool(ctx)


def test_a_call_that_timed_out_before_it_started_never_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(execute_module, "_POOL", pool)
    hung = threading.Event()
    pool.submit(hung.wait, 2)  # the only worker is busy with a hung tool
    ran: list[str] = []

    def slow() -> None:
        ran.append("applied")

    try:
        with pytest.raises(ToolTimeoutError):
            execute_tool(call_context(FakeRun(SPEC), "slow", fn=slow))
    finally:
        hung.set()
        pool.shutdown(wait=True)
    assert ran == []
