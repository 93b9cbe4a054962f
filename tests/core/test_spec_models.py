"""Tests for the agent spec pydantic models (warden.core.spec), built without YAML."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from warden.core.decisions import RULES
from warden.core.spec import (
    Access,
    AgentSpec,
    ArgumentConstraint,
    Budgets,
    Escalation,
    EscalationTrigger,
    FlowAction,
    KillCriterion,
    Metadata,
    PolicySettings,
    RuleMode,
    ToolSpec,
)
from warden.core.spec_loader import load_spec


def spec_dict(**body: Any) -> dict[str, Any]:
    return {
        "apiVersion": "warden/v1",
        "kind": "Agent",
        "metadata": {
            "name": "ticket-router",
            "version": "1",
            "owner": "alice",
            "backup_owner": "bob",
            "runbook": "docs/runbook.md",
        },
        "spec": {"scope": "Route tickets.", **body},
    }


def error_locs(exc: ValidationError) -> list[tuple[str | int, ...]]:
    return [tuple(e["loc"]) for e in exc.errors()]


# --- ToolSpec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("access", "idempotent", "side_effects", "retryable"),
    [
        ("read", False, False, True),
        ("read", True, False, True),
        ("write", False, True, False),
        ("write", True, True, True),
        ("approval", False, True, False),
        ("approval", True, True, True),
        ("blocked", False, False, False),
    ],
)
def test_tool_side_effects_and_retryable(
    access: str, idempotent: bool, side_effects: bool, retryable: bool
) -> None:
    tool = ToolSpec.model_validate({"access": access, "idempotent": idempotent})
    assert tool.access is Access(access)
    assert tool.has_side_effects is side_effects
    assert tool.retryable is retryable


def test_tool_defaults() -> None:
    tool = ToolSpec(access=Access.READ)
    assert tool.arguments == {}
    assert tool.approval_when is None
    assert tool.rate_limit is None
    assert tool.untrusted_output is False
    assert tool.egress is False
    assert tool.provenance == []
    assert tool.timeout_s is None
    assert tool.max_attempts == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_attempts", 0), ("max_attempts", 21), ("timeout_s", 0), ("timeout_s", -1)],
)
def test_tool_numeric_bounds(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        ToolSpec.model_validate({"access": "read", field: value})
    assert error_locs(info.value) == [(field,)]


def test_tool_rejects_unknown_access_and_unknown_keys() -> None:
    with pytest.raises(ValidationError) as info:
        ToolSpec.model_validate({"access": "admin", "colour": "red"})
    assert sorted(error_locs(info.value)) == [("access",), ("colour",)]


def test_approval_when_must_compile() -> None:
    assert ToolSpec(access=Access.WRITE, approval_when="amount > 100").approval_when
    with pytest.raises(ValidationError, match="not a valid CEL expression"):
        ToolSpec(access=Access.WRITE, approval_when="amount >> ")


def test_models_are_frozen() -> None:
    tool = ToolSpec(access=Access.READ)
    with pytest.raises(ValidationError):
        tool.access = Access.WRITE  # type: ignore[misc]


def test_strings_are_stripped() -> None:
    meta = Metadata.model_validate(
        {"name": "x", "version": " 1 ", "owner": " a ", "backup_owner": "b", "runbook": "r"}
    )
    assert meta.version == "1"
    assert meta.owner == "a"


# --- ArgumentConstraint -------------------------------------------------------------------


def test_argument_constraint_validators() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        ArgumentConstraint(pattern="(")
    with pytest.raises(ValidationError, match=r"min \(3\) is greater than max \(2\)"):
        ArgumentConstraint(min=3, max=2)
    with pytest.raises(ValidationError):
        ArgumentConstraint(max_length=-1)
    ok = ArgumentConstraint(min=2, max=2, max_length=0, pattern="a+", enum=[1, "a", True, 2.5])
    assert ok.enum == [1, "a", True, 2.5]
    assert ok.required is False


def test_enum_keeps_value_types() -> None:
    c = ArgumentConstraint.model_validate({"enum": ["1", 1, 1.5, True]})
    assert c.enum is not None
    assert [type(v) for v in c.enum] == [str, int, float, bool]


# --- Metadata -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "ticket-router", "a.b_c-9", "0agent", "x" * 64])
def test_valid_agent_names(name: str) -> None:
    assert AgentSpec.model_validate(spec_dict()).model_copy().name == "ticket-router"
    data = spec_dict()
    data["metadata"]["name"] = name
    assert AgentSpec.model_validate(data).name == name


@pytest.mark.parametrize("name", ["", "Ticket", "-a", "a-", "a b", "x" * 65, "a/b"])
def test_invalid_agent_names(name: str) -> None:
    data = spec_dict()
    data["metadata"]["name"] = name
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(data)
    assert error_locs(info.value) == [("metadata", "name")]


@pytest.mark.parametrize("field", ["version", "owner", "backup_owner", "runbook"])
def test_metadata_fields_are_required_and_not_empty(field: str) -> None:
    data = spec_dict()
    del data["metadata"][field]
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(data)
    assert error_locs(info.value) == [("metadata", field)]
    data = spec_dict()
    data["metadata"][field] = "   "
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(data)
    assert error_locs(info.value) == [("metadata", field)]


# --- AgentSpec / AgentBody ----------------------------------------------------------------


def test_api_version_and_kind_are_fixed() -> None:
    data = spec_dict()
    data["apiVersion"] = "warden/v2"
    data["kind"] = "Tool"
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(data)
    assert sorted(error_locs(info.value)) == [("apiVersion",), ("kind",)]


def test_api_version_by_field_name_is_accepted() -> None:
    data = spec_dict()
    data["api_version"] = data.pop("apiVersion")
    assert AgentSpec.model_validate(data).api_version == "warden/v1"


def test_tool_lookup() -> None:
    spec = AgentSpec.model_validate(spec_dict(tools={"lookup": {"access": "read"}}))
    assert spec.tool("lookup") == ToolSpec(access=Access.READ)
    assert spec.tool("Lookup") is None
    assert spec.tool("missing") is None


@pytest.mark.parametrize("name", ["lookup", "_x", "ns.tool-1", "A1"])
def test_valid_tool_names(name: str) -> None:
    spec = AgentSpec.model_validate(spec_dict(tools={name: {"access": "read"}}))
    assert name in spec.spec.tools


@pytest.mark.parametrize("name", ["1tool", "send email", "", "a/b", "x" * 129])
def test_invalid_tool_names(name: str) -> None:
    with pytest.raises(ValidationError, match="must be an identifier"):
        AgentSpec.model_validate(spec_dict(tools={name: {"access": "read"}}))


def test_provenance_must_name_declared_arguments() -> None:
    tools = {
        "send": {
            "access": "write",
            "arguments": {"to": {}},
            "provenance": ["to", "cc", "bcc"],
        }
    }
    with pytest.raises(ValidationError, match=r"\['cc', 'bcc'\]"):
        AgentSpec.model_validate(spec_dict(tools=tools))
    tools["send"]["provenance"] = ["to"]
    assert AgentSpec.model_validate(spec_dict(tools=tools)).spec.tools["send"].provenance == ["to"]


def test_content_hash_equal_for_equal_specs_and_differs_otherwise() -> None:
    a = AgentSpec.model_validate(spec_dict(tools={"lookup": {"access": "read"}}))
    b = AgentSpec.model_validate(spec_dict(tools={"lookup": {"access": "read"}}))
    c = AgentSpec.model_validate(spec_dict(tools={"lookup": {"access": "write"}}))
    # Explicit default equals omitted default: the hash is over the normalised spec.
    d = AgentSpec.model_validate(spec_dict(tools={"lookup": {"access": "read", "max_attempts": 3}}))
    assert a.content_hash() == b.content_hash() == d.content_hash()
    assert a.content_hash() != c.content_hash()


# --- PolicySettings -----------------------------------------------------------------------


def test_policy_defaults() -> None:
    p = PolicySettings()
    assert p.mode is RuleMode.ENFORCE
    assert p.rules == {}
    assert p.untrusted_egress is FlowAction.REQUIRE_APPROVAL
    assert p.provenance is FlowAction.REQUIRE_APPROVAL
    assert p.max_write_calls_per_run is None
    # The exact default is a tuning knob; the policy tests read it from the model.
    assert p.max_repeated_calls >= 2
    assert p.approval_timeout_s == 900.0


def test_mode_of_uses_override_then_default() -> None:
    p = PolicySettings.model_validate({"mode": "advisory", "rules": {"access": "enforce"}})
    assert p.mode_of("access") is RuleMode.ENFORCE
    assert p.mode_of("provenance") is RuleMode.ADVISORY
    assert p.mode_of("unknown_tool") is RuleMode.ADVISORY
    q = PolicySettings.model_validate({"rules": {"provenance": "advisory"}})
    assert q.mode_of("provenance") is RuleMode.ADVISORY
    assert q.mode_of("access") is RuleMode.ENFORCE


def test_every_known_rule_may_be_overridden() -> None:
    p = PolicySettings.model_validate({"rules": dict.fromkeys(RULES, "advisory")})
    assert all(p.mode_of(rule) is RuleMode.ADVISORY for rule in RULES)


def test_unknown_rule_is_rejected_and_named() -> None:
    with pytest.raises(ValidationError, match="loop_detection"):
        PolicySettings.model_validate({"rules": {"loop_detection": "enforce"}})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_repeated_calls", 1),
        ("max_write_calls_per_run", -1),
        ("approval_timeout_s", 0),
        ("mode", "audit"),
        ("untrusted_egress", "allow"),
        ("provenance", "allow"),
    ],
)
def test_policy_setting_bounds(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        PolicySettings.model_validate({field: value})
    assert error_locs(info.value) == [(field,)]


# --- budgets, escalation, kill criteria ----------------------------------------------------


def test_budgets_is_set() -> None:
    assert Budgets().is_set is False
    assert Budgets.model_validate({"per_run": {"max_steps": 5}}).is_set is True
    assert Budgets.model_validate({"per_day": {"max_runs": 5}}).is_set is True
    with pytest.raises(ValidationError):
        Budgets.model_validate({"per_run": {"max_cost_usd": 0}})
    with pytest.raises(ValidationError):
        Budgets.model_validate({"per_run": {"max_steps": 0}})


def test_escalation_defaults_and_bounds() -> None:
    e = Escalation(queue="tier1")
    assert e.confidence_threshold == 0.5
    assert EscalationTrigger.POLICY_DENIED not in e.on
    assert EscalationTrigger.LOW_CONFIDENCE in e.on
    with pytest.raises(ValidationError):
        Escalation(queue="")
    with pytest.raises(ValidationError):
        Escalation(queue="q", confidence_threshold=1.5)
    with pytest.raises(ValidationError):
        Escalation.model_validate({"queue": "q", "on": ["sunset"]})


def test_kill_criterion_defaults_to_advisory_pause() -> None:
    k = KillCriterion.model_validate({"metric": "error_rate", "threshold": 0.1})
    assert k.mode is RuleMode.ADVISORY
    assert k.action == "pause"
    assert k.min_samples == 50
    with pytest.raises(ValidationError):
        KillCriterion.model_validate({"metric": "vibes", "threshold": 0.1})


# --- numbers: finite, and counts strictly integers -----------------------------------------


def full_body() -> dict[str, Any]:
    """A spec body that sets every numeric field of the spec."""
    return {
        "tools": {
            "t": {
                "access": "write",
                "timeout_s": 5,
                "max_attempts": 3,
                "rate_limit": {"per_run": 1, "per_minute": 60},
                "arguments": {"a": {"min": 0, "max": 100}},
            }
        },
        "budgets": {
            "per_run": {
                "max_steps": 20,
                "max_tool_calls": 10,
                "max_tokens": 50_000,
                "max_cost_usd": 0.5,
                "max_wall_clock_s": 60,
            },
            "per_day": {"max_cost_usd": 50, "max_runs": 5000},
        },
        "escalation": {"queue": "tier1", "confidence_threshold": 0.7},
        "policy": {
            "max_write_calls_per_run": 3,
            "max_repeated_calls": 5,
            "approval_timeout_s": 900,
        },
        "slos": [{"name": "s", "metric": "success_rate", "objective": 0.95, "window_days": 30}],
        "kill_criteria": [
            {"metric": "error_rate", "threshold": 0.2, "window_s": 3600, "min_samples": 50}
        ],
        "rollout": {
            "shadow": {"min_runs": 200, "min_agreement": 0.85, "min_days": 14},
            "canary": {"traffic": 0.1, "min_runs": 200, "clean_days": 14},
            "stability_window_days": 90,
        },
        "review": {"sample_rate": 0.05},
        "oncall": {"ack_timeout_s": 900},
    }


NUMBERS = [
    ("tools", "t", "timeout_s"),
    ("tools", "t", "arguments", "a", "min"),
    ("tools", "t", "arguments", "a", "max"),
    ("budgets", "per_run", "max_cost_usd"),
    ("budgets", "per_run", "max_wall_clock_s"),
    ("budgets", "per_day", "max_cost_usd"),
    ("escalation", "confidence_threshold"),
    ("policy", "approval_timeout_s"),
    ("slos", 0, "objective"),
    ("kill_criteria", 0, "threshold"),
    ("kill_criteria", 0, "window_s"),
    ("rollout", "shadow", "min_agreement"),
    ("rollout", "shadow", "min_days"),
    ("rollout", "canary", "traffic"),
    ("rollout", "canary", "clean_days"),
    ("review", "sample_rate"),
    ("oncall", "ack_timeout_s"),
]
"""Every number of the spec that is not a count (``spec.`` omitted)."""

COUNTS = [
    ("tools", "t", "max_attempts"),
    ("tools", "t", "rate_limit", "per_run"),
    ("tools", "t", "rate_limit", "per_minute"),
    ("budgets", "per_run", "max_steps"),
    ("budgets", "per_run", "max_tool_calls"),
    ("budgets", "per_run", "max_tokens"),
    ("budgets", "per_day", "max_runs"),
    ("policy", "max_write_calls_per_run"),
    ("policy", "max_repeated_calls"),
    ("slos", 0, "window_days"),
    ("kill_criteria", 0, "min_samples"),
    ("rollout", "shadow", "min_runs"),
    ("rollout", "canary", "min_runs"),
    ("rollout", "stability_window_days"),
]
"""Every count of the spec (``spec.`` omitted); ``arguments.*.max_length`` is the argument
constraints' own."""


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body = full_body()
    parent: Any = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return spec_dict(**body)


def test_the_full_body_is_valid_and_sets_every_number() -> None:
    spec = AgentSpec.model_validate(spec_dict(**full_body()))
    dumped = spec.model_dump()["spec"]
    for path in NUMBERS + COUNTS:
        value: Any = dumped
        for part in path:
            value = value[part]
        assert value is not None, path


@pytest.mark.parametrize("path", NUMBERS + COUNTS, ids=lambda p: ".".join(map(str, p)))
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_numbers_must_be_finite_and_the_field_is_named(
    path: tuple[str | int, ...], value: float
) -> None:
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(with_value(path, value))
    assert error_locs(info.value) == [("spec", *path)]
    assert info.value.errors()[0]["type"] in {"finite_number", "int_type"}


@pytest.mark.parametrize("path", COUNTS, ids=lambda p: ".".join(map(str, p)))
@pytest.mark.parametrize("value", [True, False, 3.0, 2.5, "3"], ids=repr)
def test_counts_must_be_integers_not_booleans_floats_or_text(
    path: tuple[str | int, ...], value: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(with_value(path, value))
    assert error_locs(info.value) == [("spec", *path)]
    assert info.value.errors()[0]["type"] == "int_type"


@pytest.mark.parametrize(
    "path",
    [p for p in NUMBERS if p[-1] not in ("min", "max")],  # argument constraints: their own rules
    ids=lambda p: ".".join(map(str, p)),
)
@pytest.mark.parametrize("value", [True, "0.5"], ids=repr)
def test_numbers_are_not_booleans_or_text(path: tuple[str | int, ...], value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate(with_value(path, value))
    assert error_locs(info.value) == [("spec", *path)]


@pytest.mark.parametrize("path", NUMBERS, ids=lambda p: ".".join(map(str, p)))
def test_a_whole_number_is_a_number(path: tuple[str | int, ...]) -> None:
    spec = AgentSpec.model_validate(with_value(path, 1))
    value: Any = spec.model_dump()["spec"]
    for part in path:
        value = value[part]
    assert value == 1
    assert isinstance(value, float)


# --- approval_when is a condition: it must give true or false --------------------------------


@pytest.mark.parametrize(
    ("expression", "arguments", "gives"),
    [
        ("1 + 2", {}, "an int (3)"),
        ("'yes'", {}, "a string ('yes')"),
        ("amount", {"amount": {"min": 0, "max": 100}}, "a double"),
        ("amount * 2.0", {"amount": {"max": 100}}, "a double (200.0)"),
        ("amount * 2", {"amount": {"min": 1, "max": 100}}, "an int (2)"),
        ("queue", {"queue": {"enum": ["billing", "general"]}}, "a string"),
        ("amount > 50 ? 1 : 0", {"amount": {"min": 0}}, "an int"),
        ("size(note)", {"note": {"max_length": 500}}, "an int"),
        ("args", {}, "a map"),
        ("[amount]", {}, "a list"),
        ("null", {}, "null"),
    ],
)
def test_approval_when_that_is_not_a_condition_is_refused(
    expression: str, arguments: dict[str, Any], gives: str
) -> None:
    with pytest.raises(ValidationError) as info:
        ToolSpec.model_validate(
            {"access": "write", "arguments": arguments, "approval_when": expression}
        )
    assert error_locs(info.value) == [("approval_when",)]
    message = info.value.errors()[0]["msg"]
    assert "approval_when must be true or false" in message
    assert gives in message


@pytest.mark.parametrize(
    ("expression", "arguments"),
    [
        ("amount > 100", {"amount": {"min": 0, "max": 1000}}),
        ("amount > 100", {}),
        ("amount", {}),  # an argument the spec does not type may be a boolean
        ("urgent", {"urgent": {"enum": [True, False]}}),
        ("has(args.label) && label == 'vip'", {}),
        ("queue == 'billing' || amount >= 10.5", {"queue": {"enum": ["billing"]}}),
        ("size(note) > 3", {"note": {"max_length": 500}}),
        ("true", {}),
        ("args.meta.vip", {}),  # cannot run on made-up arguments: left to the runtime
        ("100 / amount > 2", {"amount": {"min": 0, "max": 10}}),
        ("recipient.endsWith('@example.com')", {"recipient": {"allow": ["*@example.com"]}}),
    ],
)
def test_approval_when_conditions_load(expression: str, arguments: dict[str, Any]) -> None:
    tool = ToolSpec.model_validate(
        {"access": "write", "arguments": arguments, "approval_when": expression}
    )
    assert tool.approval_when == expression


def test_approval_when_with_comprehensions_is_not_run_at_load() -> None:
    # nine nested comprehensions over ten items: a billion steps if it ran
    ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    expression = "true"
    for i in range(9):
        expression = f"{ten}.all(v{i}, {expression})"
    started = time.process_time()
    assert ToolSpec(access=Access.WRITE, approval_when=expression).approval_when == expression
    assert time.process_time() - started < 1.0


def test_the_example_specs_still_load() -> None:
    root = Path(__file__).parents[2] / "examples"
    paths = [root / "ticket_router" / "agent.yaml", *sorted((root / "agentdojo").glob("*.yaml"))]
    assert len(paths) == 5
    for path in paths:
        assert load_spec(path).api_version == "warden/v1"
