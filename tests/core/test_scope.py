"""Classifying spec changes: expansion, contraction or neutral."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from warden.core.scope import ChangeKind, classify, overall

BASE_TOOLS: dict[str, Any] = {
    "lookup": {"access": "read"},
    "route": {
        "access": "write",
        "arguments": {"queue": {"enum": ["a", "b"]}, "amount": {"min": 0, "max": 100}},
    },
    "refund": {"access": "blocked"},
}
BASE: dict[str, Any] = {
    "budgets": {"per_run": {"max_steps": 8}, "per_day": {"max_runs": 100}},
    "kill_criteria": [{"metric": "error_rate", "threshold": 0.1}],
    "rollout": {"canary": {"traffic": 0.1}},
}


def diff(tools: dict[str, Any] | None = None, **fields: Any) -> tuple[ChangeKind, list[str]]:
    old = make_spec(BASE_TOOLS, **BASE)
    new = make_spec(tools if tools is not None else BASE_TOOLS, **{**BASE, **fields})
    items = classify(old, new)
    return overall(items), [f"{i.kind.value} {i.path}" for i in items]


def with_tool(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {**BASE_TOOLS, name: spec}


def test_identical_specs_have_no_differences() -> None:
    assert diff() == (ChangeKind.NEUTRAL, [])


@pytest.mark.parametrize(
    ("tools", "fields", "expected", "path"),
    [
        (with_tool("email", {"access": "write"}), {}, ChangeKind.EXPANSION, "spec.tools.email"),
        (
            with_tool("refund", {"access": "approval"}),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.refund.access",
        ),
        (
            with_tool("lookup", {"access": "write"}),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.lookup.access",
        ),
        (
            with_tool("route", {"access": "read", "arguments": BASE_TOOLS["route"]["arguments"]}),
            {},
            ChangeKind.CONTRACTION,
            "spec.tools.route.access",
        ),
        (
            {k: v for k, v in BASE_TOOLS.items() if k != "lookup"},
            {},
            ChangeKind.CONTRACTION,
            "spec.tools.lookup",
        ),
        (
            with_tool(
                "route",
                {
                    "access": "write",
                    "arguments": {
                        "queue": {"enum": ["a", "b", "c"]},
                        "amount": {"min": 0, "max": 100},
                    },
                },
            ),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.route.arguments.queue.enum",
        ),
        (
            with_tool(
                "route",
                {
                    "access": "write",
                    "arguments": {"queue": {"enum": ["a"]}, "amount": {"min": 0, "max": 100}},
                },
            ),
            {},
            ChangeKind.CONTRACTION,
            "spec.tools.route.arguments.queue.enum",
        ),
        (
            with_tool(
                "route",
                {
                    "access": "write",
                    "arguments": {"queue": {"enum": ["a", "b"]}, "amount": {"min": 0, "max": 500}},
                },
            ),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.route.arguments.amount.max",
        ),
        (
            with_tool(
                "route",
                {
                    "access": "write",
                    "arguments": {"queue": {"enum": ["a", "b"]}, "amount": {"min": -5, "max": 100}},
                },
            ),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.route.arguments.amount.min",
        ),
        (
            with_tool("route", {"access": "write", "arguments": {"queue": {"enum": ["a", "b"]}}}),
            {},
            ChangeKind.EXPANSION,
            "spec.tools.route.arguments.amount",
        ),
        (
            with_tool("route", {**BASE_TOOLS["route"], "approval_when": "amount > 50"}),
            {},
            ChangeKind.CONTRACTION,
            "spec.tools.route.approval_when",
        ),
        (
            None,
            {"budgets": {"per_run": {"max_steps": 20}, "per_day": {"max_runs": 100}}},
            ChangeKind.EXPANSION,
            "spec.budgets.per_run.max_steps",
        ),
        (
            None,
            {"budgets": {"per_run": {}, "per_day": {"max_runs": 100}}},
            ChangeKind.EXPANSION,
            "spec.budgets.per_run.max_steps",
        ),
        (
            None,
            {"budgets": {"per_run": {"max_steps": 4}, "per_day": {"max_runs": 100}}},
            ChangeKind.CONTRACTION,
            "spec.budgets.per_run.max_steps",
        ),
        (
            None,
            {"rollout": {"canary": {"traffic": 0.5}}},
            ChangeKind.EXPANSION,
            "spec.rollout.canary.traffic",
        ),
        (
            None,
            {"rollout": {"canary": {"traffic": 0.05}}},
            ChangeKind.CONTRACTION,
            "spec.rollout.canary.traffic",
        ),
        (None, {"rollout": None}, ChangeKind.EXPANSION, "spec.rollout"),
        (None, {"kill_criteria": []}, ChangeKind.EXPANSION, "spec.kill_criteria.error_rate"),
        (
            None,
            {"kill_criteria": [{"metric": "error_rate", "threshold": 0.2}]},
            ChangeKind.EXPANSION,
            "spec.kill_criteria.error_rate.threshold",
        ),
        (
            None,
            {"policy": {"rules": {"provenance": "advisory"}}},
            ChangeKind.EXPANSION,
            "spec.policy.rules.provenance",
        ),
        (
            None,
            {"policy": {"max_write_calls_per_run": 1}},
            ChangeKind.CONTRACTION,
            "spec.policy.max_write_calls_per_run",
        ),
        (
            None,
            {"escalation": {"queue": "tier1-humans", "confidence_threshold": 0.2}},
            ChangeKind.EXPANSION,
            "spec.escalation.confidence_threshold",
        ),
        (
            None,
            {"scope": "A different description of the same job."},
            ChangeKind.NEUTRAL,
            "spec.scope",
        ),
    ],
)
def test_classification(tools, fields, expected: ChangeKind, path: str) -> None:
    kind, items = diff(tools, **fields)
    assert kind is expected, items
    assert f"{expected.value} {path}" in items or any(i.endswith(path) for i in items), items


def test_a_new_blocked_tool_is_neutral_and_a_changed_pattern_counts_as_expansion() -> None:
    kind, _ = diff(with_tool("wire", {"access": "blocked"}))
    assert kind is ChangeKind.NEUTRAL
    old = make_spec({"t": {"access": "write", "arguments": {"id": {"pattern": "^a$"}}}})
    new = make_spec({"t": {"access": "write", "arguments": {"id": {"pattern": "^b$"}}}})
    [item] = classify(old, new)
    assert item.kind is ChangeKind.EXPANSION
    assert "direction unknown" in item.detail


def test_one_expansion_among_contractions_is_an_expansion() -> None:
    tools = {k: v for k, v in with_tool("email", {"access": "write"}).items() if k != "lookup"}
    kind, items = diff(tools)
    assert kind is ChangeKind.EXPANSION
    assert len(items) == 2
