"""``build_chain`` composes interceptors outermost first around the terminal; a
``CallContext`` starts empty and is the one object every link sees."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRun, call_context
from warden.core.calls import CallInput
from warden.runtime.chain import build_chain
from warden.runtime.chain.interceptor import CallContext, Proceed


def _ctx() -> CallContext:
    return call_context(FakeRun(make_spec({"lookup": {"access": "read"}})), "lookup", {"id": 1})


def _named(name: str, trace: list[str]) -> Any:
    def interceptor(ctx: CallContext, proceed: Proceed) -> Any:
        trace.append(f"{name}>")
        try:
            return proceed(ctx)
        finally:
            trace.append(f"<{name}")

    return interceptor


def test_interceptors_run_outermost_first_around_the_terminal() -> None:
    trace: list[str] = []

    def terminal(ctx: CallContext) -> str:
        trace.append("terminal")
        return "result"

    chain = build_chain([_named("a", trace), _named("b", trace), _named("c", trace)], terminal)
    assert chain(_ctx()) == "result"
    assert trace == ["a>", "b>", "c>", "terminal", "<c", "<b", "<a"]


def test_no_interceptors_is_the_terminal_itself() -> None:
    def terminal(ctx: CallContext) -> str:
        return "result"

    assert build_chain([], terminal) is terminal


def test_an_interceptor_that_does_not_proceed_stops_the_call_there() -> None:
    trace: list[str] = []

    def gate(ctx: CallContext, proceed: Proceed) -> str:
        trace.append("gate")
        return "answered by the gate"

    def terminal(ctx: CallContext) -> str:
        trace.append("terminal")
        return "result"

    chain = build_chain([_named("outer", trace), gate, _named("inner", trace)], terminal)
    assert chain(_ctx()) == "answered by the gate"
    assert trace == ["outer>", "gate", "<outer"]


def test_every_link_sees_the_same_context_and_what_outer_links_changed() -> None:
    seen: list[tuple[int, dict[str, Any]]] = []

    def rewrite(ctx: CallContext, proceed: Proceed) -> Any:
        ctx.call = CallInput(
            agent=ctx.call.agent, run_id=ctx.call.run_id, tool=ctx.call.tool, arguments={"id": 2}
        )
        ctx.extra["rewritten"] = True
        return proceed(ctx)

    def look(ctx: CallContext, proceed: Proceed) -> Any:
        seen.append((id(ctx), dict(ctx.call.arguments)))
        return proceed(ctx)

    def terminal(ctx: CallContext) -> Any:
        return ctx.call.arguments, ctx.extra

    ctx = _ctx()
    assert build_chain([rewrite, look], terminal)(ctx) == ({"id": 2}, {"rewritten": True})
    assert seen == [(id(ctx), {"id": 2})]


def test_results_flow_back_out_and_errors_propagate_through_every_link() -> None:
    trace: list[str] = []

    def double(ctx: CallContext, proceed: Proceed) -> Any:
        return proceed(ctx) * 2

    assert build_chain([double, double], lambda ctx: 3)(_ctx()) == 12

    def failing(ctx: CallContext) -> Any:
        raise ValueError("tool broke")

    chain = build_chain([_named("a", trace), _named("b", trace)], failing)
    with pytest.raises(ValueError, match="tool broke"):
        chain(_ctx())
    assert trace == ["a>", "b>", "<b", "<a"]


def test_a_chain_is_built_once_and_keeps_no_state_between_calls() -> None:
    def count(ctx: CallContext, proceed: Proceed) -> Any:
        ctx.attempts += 1
        return proceed(ctx)

    chain = build_chain([count], lambda ctx: ctx.attempts)
    assert [chain(_ctx()) for _ in range(3)] == [1, 1, 1]


def test_a_call_context_starts_with_nothing_decided() -> None:
    first, second = _ctx(), _ctx()
    assert first.status is None
    assert first.decision is None
    assert first.attempts == 0
    assert first.idempotency_key is None
    assert first.approval_id is None
    assert first.result_json is None
    assert first.extra == {}
    first.extra["x"] = 1
    assert second.extra == {}  # not shared between calls
