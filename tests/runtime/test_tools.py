"""Governed tools: validation built from a function's type hints, the idempotency-key
parameter, JSON for the record, and the registry of an agent's tools."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from warden.core.calls import MAX_ARGUMENT_DEPTH, too_deep_argument
from warden.core.runs import ToolCallStatus
from warden.errors import ToolInputError, ToolOutputError, ToolRegistrationError
from warden.policy.expressions import ExpressionError, evaluate
from warden.runtime.tools import IDEMPOTENCY_PARAM, GovernedTool, ToolRegistry


class Routed(BaseModel):
    ticket_id: str
    queue: str


def route_ticket(
    ticket_id: str, queue: str = "general", idempotency_key: str | None = None
) -> Routed:
    return Routed(ticket_id=ticket_id, queue=queue)


class _Unserialisable:
    def __repr__(self) -> str:
        return "<unserialisable>"


def test_a_tool_is_built_from_the_signature() -> None:
    tool = GovernedTool.from_function(route_ticket)
    assert tool.name == "route_ticket"
    assert tool.fn is route_ticket
    assert tool.takes_idempotency_key
    assert set(tool.arguments_model.model_fields) == {"ticket_id", "queue"}  # not the key
    assert IDEMPOTENCY_PARAM == "idempotency_key"


def test_a_name_can_be_given() -> None:
    assert GovernedTool.from_function(route_ticket, "route").name == "route"


def test_arguments_are_coerced_with_defaults_filled_in() -> None:
    tool = GovernedTool.from_function(route_ticket)

    def refund(amount: float, note: str = "") -> None: ...

    assert tool.validate_arguments({"ticket_id": "t1"}) == {"ticket_id": "t1", "queue": "general"}
    assert GovernedTool.from_function(refund).validate_arguments({"amount": "12.5"}) == {
        "amount": 12.5,
        "note": "",
    }


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({}, "ticket_id: Field required"),
        ({"ticket_id": "t1", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"ticket_id": ["t1"]}, "ticket_id: Input should be a valid string"),
        ({"ticket_id": "t1", "idempotency_key": "mine"}, "idempotency_key: Extra inputs"),
    ],
)
def test_invalid_arguments_name_the_first_problem(raw: dict[str, Any], where: str) -> None:
    with pytest.raises(ToolInputError) as info:
        GovernedTool.from_function(route_ticket).validate_arguments(raw)
    assert str(info.value).startswith(f"route_ticket: invalid arguments: {where}")


def test_results_are_validated_against_the_return_annotation() -> None:
    tool = GovernedTool.from_function(route_ticket)
    assert tool.validate_result({"ticket_id": "t1", "queue": "q"}) == Routed(
        ticket_id="t1", queue="q"
    )
    with pytest.raises(
        ToolOutputError, match="route_ticket: invalid result: queue: Field required"
    ):
        tool.validate_result({"ticket_id": "t1"})


@pytest.mark.parametrize("returns", ["none", "unannotated"])
def test_no_return_annotation_means_no_result_validation(returns: str) -> None:
    def annotated_none(x: int) -> None: ...

    def unannotated(x: int): ...

    tool = GovernedTool.from_function(annotated_none if returns == "none" else unannotated)
    assert tool.result_adapter is None
    value = _Unserialisable()
    assert tool.validate_result(value) is value


def test_unannotated_parameters_take_anything() -> None:
    def anything(x, y: int = 0) -> None: ...

    assert GovernedTool.from_function(anything).validate_arguments({"x": {"a": [1]}}) == {
        "x": {"a": [1]},
        "y": 0,
    }


@pytest.mark.parametrize(
    "fn",
    [
        lambda *args: None,
        lambda **kwargs: None,
        eval("lambda a, /: None"),  # positional-only
    ],
)
def test_functions_that_cannot_be_governed_are_refused(fn: Any) -> None:
    with pytest.raises(ToolRegistrationError, match="must be a named parameter"):
        GovernedTool.from_function(fn, "bad")


def test_unresolvable_hints_are_refused() -> None:
    def broken(x: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    with pytest.raises(ToolRegistrationError, match="broken: cannot resolve type hints"):
        GovernedTool.from_function(broken)


def test_arguments_and_results_as_json_for_the_record() -> None:
    tool = GovernedTool.from_function(route_ticket)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert tool.arguments_as_json({"when": when, "ids": ("a", "b")}) == {
        "when": "2026-01-01T00:00:00Z",
        "ids": ["a", "b"],
    }
    assert tool.result_as_json(Routed(ticket_id="t1", queue="q")) == {
        "ticket_id": "t1",
        "queue": "q",
    }


def test_what_cannot_be_serialised_is_recorded_as_text() -> None:
    arguments = GovernedTool.arguments_as_json({"thing": _Unserialisable()})
    assert arguments == {"thing": "<unserialisable>"}

    def untyped(x: int): ...

    value = _Unserialisable()
    assert GovernedTool.from_function(untyped).result_as_json(value) == "<unserialisable>"


def test_the_registry_finds_tools_by_name_and_refuses_a_second_of_a_name() -> None:
    registry = ToolRegistry()

    def lookup(customer_id: str) -> str:
        return "gold"

    tool = registry.register(route_ticket)
    registry.register(lookup, "lookup_customer")
    assert registry.get("route_ticket") is tool
    assert registry.get("lookup_customer") is not None
    assert registry.get("lookup") is None
    assert registry.names() == ["lookup_customer", "route_ticket"]
    with pytest.raises(ToolRegistrationError, match="'route_ticket' is already registered"):
        registry.register(lookup, "route_ticket")
    assert registry.get("route_ticket") is tool


# --- arguments nested too deep: refused before anything recursive runs on them ----------------


def nested(depth: int, kind: str = "list") -> Any:
    """A value nested ``depth`` levels: ``[[["leaf"]]]`` or ``{"k": {"k": "leaf"}}``."""
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


def ingest(payload: Any, note: str = "") -> str:
    return "ran"


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_arguments_nested_up_to_32_levels_are_accepted(kind: str) -> None:
    tool = GovernedTool.from_function(ingest)
    assert tool.validate_arguments({"payload": nested(32, kind)})["payload"] == nested(32, kind)


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_arguments_nested_deeper_are_invalid_and_refused_fast(depth: int, kind: str) -> None:
    tool = GovernedTool.from_function(ingest)
    started = time.process_time()
    with pytest.raises(ToolInputError) as info:
        tool.validate_arguments({"note": "hi", "payload": nested(depth, kind)})
    assert time.process_time() - started < 1.0
    assert str(info.value) == (
        "ingest: invalid arguments: payload: nested more than 32 levels deep "
        "(lists, objects), the most a tool argument may be"
    )
    assert MAX_ARGUMENT_DEPTH == 32


def test_nesting_is_counted_through_tuples_sets_models_and_dataclass_instances() -> None:
    @dataclass
    class Box:
        inside: Any

    class Wrapper(BaseModel):
        inside: Any

    wraps = (lambda v: (v,), Box, lambda v: Wrapper(inside=v), lambda v: {"k": [v]})
    value: Any = "leaf"
    for i in range(40):
        value = wraps[i % 4](value)
    assert too_deep_argument({"x": value}) == "x"
    frozen: Any = "leaf"
    for _ in range(40):
        frozen = frozenset([frozen])
    assert too_deep_argument({"ok": 1, "x": frozen}) == "x"
    assert too_deep_argument({"x": "leaf", "y": Box(inside=[1, {"a": (2,)}])}) is None


def test_a_value_that_contains_itself_is_too_deep() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ToolInputError, match="payload: nested more than 32 levels deep"):
        GovernedTool.from_function(ingest).validate_arguments({"payload": loop})


def test_shared_parts_are_walked_once_per_depth_not_once_per_path() -> None:
    shallow: Any = "leaf"
    for _ in range(30):
        shallow = [shallow, shallow]  # 2**30 paths to the leaf, 31 distinct lists
    deep: Any = shallow
    for _ in range(10):
        deep = [deep, deep]
    started = time.process_time()
    assert too_deep_argument({"payload": shallow}) is None
    assert too_deep_argument({"payload": deep}) == "payload"
    assert time.process_time() - started < 1.0


def test_a_too_deep_argument_is_recorded_as_a_note_not_walked() -> None:
    arguments = {"payload": nested(100_000), "note": "hi"}
    assert GovernedTool.arguments_as_json(arguments) == {
        "payload": "<nested more than 32 levels deep: not recorded>",
        "note": "hi",
    }


def test_an_approval_condition_is_not_evaluated_on_too_deep_arguments() -> None:
    with pytest.raises(ExpressionError, match="nested more than 32 levels deep"):
        evaluate("has(args.payload)", {"payload": nested(100_000)})


@pytest.mark.parametrize("depth", [33, 300])
def test_through_a_run_a_too_deep_argument_is_invalid_and_never_executed(
    make_governor: Any, spec_factory: Any, store: Any, depth: int
) -> None:
    gov = make_governor(spec_factory({"ingest": {"access": "write"}}))
    ran: list[Any] = []

    @gov.tool
    def ingest(payload: Any) -> str:
        ran.append(payload)
        return "ran"

    with gov.run(input="x") as run:
        with pytest.raises(ToolInputError, match="payload: nested more than 32 levels deep"):
            run.call("ingest", payload=nested(depth))
        run.resolve(output="done")
    gov.flush()
    assert ran == []
    (call,) = store.get_run(run.id).tool_calls
    assert call.status is ToolCallStatus.INVALID
    assert call.attempts == 0
    assert call.error_code == "tool.input_invalid"
    assert call.arguments == {"payload": "<nested more than 32 levels deep: not recorded>"}


@pytest.mark.parametrize("registered", [True, False], ids=["registered", "no-function"])
def test_through_a_run_a_100_000_deep_argument_is_invalid_not_a_recursion_error(
    make_governor: Any, spec_factory: Any, store: Any, registered: bool
) -> None:
    gov = make_governor(spec_factory({"ingest": {"access": "write"}}))

    if registered:

        @gov.tool
        def ingest(payload: Any) -> str:
            return "ran"

    with gov.run(input="x") as run:
        with pytest.raises(ToolInputError, match="payload: nested more than 32 levels deep"):
            run.call("ingest", payload=nested(100_000))
        run.resolve(output="done")
    gov.flush()
    (call,) = store.get_run(run.id).tool_calls
    assert call.status is ToolCallStatus.INVALID
