"""Tests for warden.policy.expressions: CEL evaluation over a call's arguments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from warden.policy import ExpressionError, evaluate


@pytest.mark.parametrize(
    ("source", "arguments", "expected"),
    [
        ("amount > 100", {"amount": 150}, True),
        ("amount > 100", {"amount": 100}, False),
        ("amount > 100", {"amount": 50}, False),
        ("amount > 100", {"amount": 100.5}, True),
        ("amount > 100.0", {"amount": 101}, True),
        ("amount >= 100 && currency == 'USD'", {"amount": 100, "currency": "USD"}, True),
        ("amount >= 100 && currency == 'USD'", {"amount": 100, "currency": "EUR"}, False),
        ("queue == 'billing' || priority > 3", {"queue": "tech", "priority": 4}, True),
        ("queue in ['billing', 'refunds']", {"queue": "refunds"}, True),
        ("queue in ['billing', 'refunds']", {"queue": "general"}, False),
        ("size(recipients) > 2", {"recipients": ["a", "b", "c"]}, True),
        ("size(recipients) > 2", {"recipients": ["a"]}, False),
        ("to.endsWith('@example.com')", {"to": "bob@example.com"}, True),
        ("to.endsWith('@example.com')", {"to": "bob@evil.test"}, False),
        ("customer.tier == 'gold'", {"customer": {"tier": "gold"}}, True),
        ("note == null", {"note": None}, True),
        ("urgent", {"urgent": True}, True),
        ("!urgent", {"urgent": True}, False),
        ("true", {}, True),
    ],
)
def test_evaluate_truth_values(source: str, arguments: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, arguments) is expected


def test_args_is_bound_to_the_whole_argument_map() -> None:
    assert evaluate("args.amount > 1", {"amount": 2}) is True
    assert evaluate("args.amount > 1", {"amount": 0}) is False
    assert evaluate("has(args.note)", {"note": "hi"}) is True
    assert evaluate("has(args.note)", {}) is False
    assert evaluate("size(args) == 2", {"a": 1, "b": 2}) is True
    assert evaluate("has(args.note) && note == 'x'", {"note": "x"}) is True
    # Short-circuit: `note` is never looked up when it is absent.
    assert evaluate("has(args.note) && note == 'x'", {}) is False


def test_missing_argument_raises_expression_error() -> None:
    with pytest.raises(ExpressionError, match="amount"):
        evaluate("amount > 100", {})
    with pytest.raises(ExpressionError):
        evaluate("amount > 100", {"amont": 500})


@pytest.mark.parametrize(
    ("source", "arguments", "type_name"),
    [
        ("amount + 1", {"amount": 1}, "int"),
        ("'yes'", {}, "str"),
        ("amount * 1.5", {"amount": 2.0}, "float"),
        ("[1, 2]", {}, "list"),
        ("args", {"a": 1}, "dict"),
        ("null", {}, "NoneType"),
    ],
)
def test_non_boolean_result_raises(source: str, arguments: dict[str, Any], type_name: str) -> None:
    with pytest.raises(ExpressionError, match=f"expression returned {type_name}, not a boolean"):
        evaluate(source, arguments)


def test_syntax_error_raises_expression_error() -> None:
    with pytest.raises(ExpressionError):
        evaluate("amount >", {"amount": 1})


def test_type_error_at_runtime_raises_expression_error() -> None:
    with pytest.raises(ExpressionError):
        evaluate("amount > 100", {"amount": "lots"})


def test_expression_error_is_a_single_line_value_error() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("missing_var == 1", {})
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_non_json_arguments_are_canonicalised_to_strings() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    assert evaluate("when.startsWith('2024-05-01')", {"when": when}) is True


def test_repeated_evaluation_gives_the_same_answer() -> None:
    results = {evaluate("n % 2 == 0", {"n": n}) for n in (2, 4, 6)}
    assert results == {True}
    assert evaluate("n % 2 == 0", {"n": 3}) is False
