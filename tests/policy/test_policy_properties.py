"""Property tests for the policy engine (Hypothesis).

(a) allow implies no declared constraint is violated, checked by an independent reference
    implementation written here (and, conversely, compliant arguments are allowed);
(b) a ``blocked`` tool is never allowed in enforce mode, whatever the arguments and state;
(c) a tool the spec does not list is never allowed in enforce mode.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter
from email.utils import getaddresses, parseaddr
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from warden.core.calls import CallInput, RunState, arguments_hash
from warden.core.decisions import RULES, Decision, Verdict
from warden.core.spec import AgentSpec, ArgumentConstraint
from warden.policy import decide

PROFILE = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

PATTERNS = ["[a-z]+", "T-[0-9]{1,3}", "(yes|no)", ".*", "[A-Z]?", r"\d+\.\d+", "a|ab"]
GLOBS = ["*@example.com", "a*", "?", "ticket-*", "*", "[ab]c", "x?y*", "*@*", "ticket-*/*"]
ARG_NAMES = ["amount", "queue", "to", "note", "ticket_id"]
TOOL_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)


def make_spec(tools: dict[str, dict[str, Any]], policy: dict[str, Any] | None = None) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": "prop-agent",
                "version": "1",
                "owner": "alice",
                "backup_owner": "bob",
                "runbook": "docs/runbook.md",
            },
            "spec": {"scope": "Property tests.", "tools": tools, "policy": policy or {}},
        }
    )


def make_call(tool: str, arguments: dict[str, Any]) -> CallInput:
    return CallInput(agent="prop-agent", run_id="run-1", tool=tool, arguments=arguments)


# --- strategies ------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=10,
)
arguments_dicts = st.dictionaries(
    st.one_of(st.sampled_from(ARG_NAMES), st.text(max_size=8)), json_values, max_size=5
)

enum_items = st.one_of(
    st.text(max_size=4),
    st.integers(min_value=-5, max_value=5),
    st.floats(min_value=-5, max_value=5, allow_nan=False),
    st.booleans(),
)


KINDS = ["enum", "pattern", "min", "max", "max_length", "allow"]


@st.composite
def constraints(draw: st.DrawFn, focus: str | None = None) -> ArgumentConstraint:
    """``focus`` (when given) plus at most one other kind; else up to three kinds at once."""
    if focus is None:
        kinds = draw(st.sets(st.sampled_from(KINDS), max_size=3))
    else:
        kinds = {focus} | draw(st.sets(st.sampled_from(KINDS), max_size=1))
    data: dict[str, Any] = {"required": draw(st.booleans())}
    if "enum" in kinds:
        data["enum"] = draw(st.lists(enum_items, min_size=1, max_size=4))
    if "pattern" in kinds:
        data["pattern"] = draw(st.sampled_from(PATTERNS))
    lo, hi = sorted(draw(st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=2)))
    if "min" in kinds:
        data["min"] = draw(st.sampled_from([lo, math.floor(lo)]))
    if "max" in kinds:
        data["max"] = draw(st.sampled_from([hi, math.ceil(hi)]))
    if "max_length" in kinds:
        data["max_length"] = draw(st.integers(0, 6))
    if "allow" in kinds:
        data["allow"] = draw(st.lists(st.sampled_from(GLOBS), min_size=1, max_size=3))
    return ArgumentConstraint.model_validate(data)


WORDS = [
    "a",
    "ac",
    "bc",
    "cc",
    "ticket-9",
    "xay",
    "xy",
    "bob@example.com",
    "bob@evil.test",
    "A",
    "x@y",
    "x y",
    "ticket-a/b",
    "evil@evil.test,bob@example.com",
    "<bob@example.com>",
]


def _twins(items: list[Any]) -> list[Any]:
    """Values equal to an enum item in Python but of another JSON type (True vs 1)."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, bool):
            out += [int(item), float(item)]
        elif isinstance(item, int | float) and item in (0, 1):
            out.append(bool(item))
        elif isinstance(item, int | float):
            out += [int(item), float(item), str(item)]
        else:
            out.append(item.upper() if item != item.upper() else item + " ")
    return out


def edge_values(c: ArgumentConstraint) -> list[Any]:
    """Concrete values on and just past each edge of ``c``."""
    out: list[Any] = [True, False, 0, 1, 0.0, 1.0, "", [], {}, None]
    if c.enum:
        out += list(c.enum) * 2 + _twins(c.enum)
    if c.min is not None or c.max is not None:
        for bound in (c.min, c.max):
            if bound is not None:
                out += [bound, math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
                out += [math.floor(bound), math.ceil(bound), bound - 0.25, bound + 0.25]
        lo = c.min if c.min is not None else c.max
        hi = c.max if c.max is not None else c.min
        assert lo is not None and hi is not None
        out += [(lo + hi) / 2, round((lo + hi) / 2)]
    if c.max_length is not None:
        n = c.max_length
        out += ["x" * n, "x" * (n + 1), ["a"] * n, ["a"] * (n + 1), "a" * max(n - 1, 0)]
    if c.allow is not None:
        out += WORDS + [[w, v] for w in WORDS[:4] for v in WORDS[-4:]] + [list(WORDS[:3])]
    return out


def candidate_values(c: ArgumentConstraint) -> st.SearchStrategy[Any]:
    """Mostly values on and just past the constraint's edges, sometimes arbitrary ones."""
    edges = st.sampled_from(edge_values(c))
    options: list[st.SearchStrategy[Any]] = [
        edges,
        edges,
        edges,
        scalars.filter(lambda v: not (isinstance(v, float) and math.isnan(v))),
        st.lists(st.sampled_from(WORDS), max_size=4),
    ]
    if c.pattern is not None:
        match = st.from_regex(c.pattern, fullmatch=True)
        options += [match, match, match.map(lambda v: v + "x"), match.map(lambda v: "x" + v)]
        options.append(match.map(lambda v: v[:-1]))
    return st.one_of(*options)


# --- the reference check (independent of warden.policy.constraints) -------------------------


def _same(value: Any, allowed: Any) -> bool:
    if isinstance(value, bool) or isinstance(allowed, bool):
        return type(value) is type(allowed) and value == allowed
    if isinstance(value, int | float) and isinstance(allowed, int | float):
        return value == allowed
    return type(value) is type(allowed) and value == allowed


def _wild(ch: str) -> bool:
    """A character a glob wildcard may stand for: not ``@ / ,`` nor whitespace."""
    return ch not in "@/," and not ch.isspace()


def glob_matches(value: str, glob: str) -> bool:
    """The allow-list glob, by recursion over both strings (no regex involved).

    Supports what GLOBS uses: ``*``, ``?``, ``[set]`` and literals.
    """

    @cache
    def at(i: int, j: int) -> bool:
        if j == len(glob):
            return i == len(value)
        g = glob[j]
        if g == "*":
            return at(i, j + 1) or (i < len(value) and _wild(value[i]) and at(i + 1, j))
        if i == len(value):
            return False
        if g == "?":
            return _wild(value[i]) and at(i + 1, j + 1)
        if g == "[":
            end = glob.index("]", j + 2)
            return value[i] in glob[j + 1 : end] and at(i + 1, end + 1)
        return value[i] == g and at(i + 1, j + 1)

    return at(0, 0)


def allowed_item(item: Any, globs: list[str]) -> bool:
    if not isinstance(item, str):
        return False
    if "@" in item and (getaddresses([item]) != [("", item)] or parseaddr(item) != ("", item)):
        return False
    return any(glob_matches(item, g) for g in globs)


def complies(present: bool, value: Any, c: ArgumentConstraint) -> bool:
    if not present:
        return not c.required
    if c.enum is not None and not any(_same(value, e) for e in c.enum):
        return False
    if c.pattern is not None and (
        # RE2's \d, \w and \s are ASCII-only: Python's re.ASCII means the same here
        not isinstance(value, str) or re.fullmatch(c.pattern, value, re.ASCII) is None
    ):
        return False
    if c.min is not None or c.max is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        if c.min is not None and not value >= c.min:
            return False
        if c.max is not None and not value <= c.max:
            return False
    if c.max_length is not None and (
        not isinstance(value, str | list | tuple | dict) or len(value) > c.max_length
    ):
        return False
    if c.allow is not None:
        items = list(value) if isinstance(value, list | tuple) else [value]
        if not all(allowed_item(item, c.allow) for item in items):
            return False
    return True


# --- (a) allow => every constraint holds -------------------------------------------------------


@pytest.mark.parametrize("focus", [*KINDS, None])
@settings(PROFILE, max_examples=120)
@given(data=st.data())
def test_allowed_calls_satisfy_every_constraint(focus: str | None, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(ARG_NAMES), min_size=1, max_size=2, unique=True))
    rules = {
        name: data.draw(constraints(focus if i == 0 else None), label=f"constraint {name}")
        for i, name in enumerate(names)
    }
    arguments: dict[str, Any] = {}
    for name in names:
        if data.draw(st.integers(0, 9), label=f"present {name}") > 0:
            arguments[name] = data.draw(candidate_values(rules[name]), label=f"value {name}")
    access = data.draw(st.sampled_from(["read", "write"]))
    spec = make_spec({"t": {"access": access, "arguments": rules}})

    decision = decide(spec, make_call("t", arguments), RunState.start("prop-agent", "r", ""))

    expected = all(complies(n in arguments, arguments.get(n), rules[n]) for n in names)
    event(f"allowed={decision.allowed}")
    if decision.allowed:
        assert expected, f"allowed although a constraint is violated: {arguments!r}"
        assert decision.rule == "access"
    else:
        # With a fresh state and read/write access, only the constraints can object.
        assert not expected, f"denied although every constraint holds: {decision.reason}"
        assert decision.verdict is Verdict.DENY
        assert decision.rule == "argument_constraints"


# --- (b) blocked is never allowed --------------------------------------------------------------


@st.composite
def run_states(draw: st.DrawFn, call: CallInput) -> RunState:
    s = RunState.start("prop-agent", "run-1", draw(json_values))
    for text in draw(st.lists(st.text(max_size=20), max_size=3)):
        s.note_result("lookup", text, untrusted=False)
    for source in draw(st.lists(TOOL_NAMES, max_size=2)):
        s.note_result(source, "x", untrusted=True)
    counts = draw(st.dictionaries(TOOL_NAMES, st.integers(0, 50), max_size=3))
    s.tool_calls = Counter(counts)
    s.tool_calls[call.tool] = draw(st.integers(0, 50))
    s.write_calls = draw(st.integers(0, 50))
    s.call_counts[call.args_hash] = draw(st.integers(0, 20))
    s.call_counts[arguments_hash("other", {})] = draw(st.integers(0, 20))
    s.agent_calls_last_minute = draw(st.dictionaries(TOOL_NAMES, st.integers(0, 100), max_size=3))
    return s


@st.composite
def enforced_policies(draw: st.DrawFn, keep_enforced: str) -> dict[str, Any]:
    """Random policy settings whose effective mode for ``keep_enforced`` is enforce."""
    mode = draw(st.sampled_from(["enforce", "advisory"]))
    others = sorted(r for r in RULES if r != keep_enforced)
    overrides = draw(
        st.dictionaries(st.sampled_from(others), st.sampled_from(["enforce", "advisory"]))
    )
    if mode == "advisory" or draw(st.booleans()):
        overrides[keep_enforced] = "enforce"
    policy: dict[str, Any] = {"mode": mode, "rules": overrides}
    policy["untrusted_egress"] = draw(st.sampled_from(["require_approval", "deny"]))
    policy["provenance"] = draw(st.sampled_from(["require_approval", "deny"]))
    policy["max_repeated_calls"] = draw(st.integers(2, 10))
    if draw(st.booleans()):
        policy["max_write_calls_per_run"] = draw(st.integers(0, 10))
    return policy


@st.composite
def tool_extras(draw: st.DrawFn) -> dict[str, Any]:
    extras: dict[str, Any] = {
        "idempotent": draw(st.booleans()),
        "egress": draw(st.booleans()),
        "untrusted_output": draw(st.booleans()),
        "provenance": draw(st.lists(st.sampled_from(ARG_NAMES), max_size=2, unique=True)),
    }
    if draw(st.booleans()):
        extras["approval_when"] = draw(
            st.sampled_from(["amount > 100", "has(args.to)", "false", "true", "amount"])
        )
    if draw(st.booleans()):
        extras["rate_limit"] = {
            "per_run": draw(st.none() | st.integers(0, 5)),
            "per_minute": draw(st.none() | st.integers(0, 5)),
        }
    return extras


def assert_untouched(before: RunState, after: RunState) -> None:
    assert before.call_counts == after.call_counts
    assert before.tool_calls == after.tool_calls
    assert before.write_calls == after.write_calls
    assert before.trusted_texts == after.trusted_texts
    assert before.untrusted_sources == after.untrusted_sources


@settings(PROFILE, max_examples=200)
@given(data=st.data())
def test_blocked_tool_is_never_allowed(data: st.DataObject) -> None:
    name = data.draw(TOOL_NAMES, label="tool")
    arguments = data.draw(arguments_dicts, label="arguments")
    tool = {"access": "blocked", **data.draw(tool_extras(), label="extras")}
    others = data.draw(
        st.dictionaries(TOOL_NAMES, st.sampled_from(["read", "write", "approval"]), max_size=2)
    )
    tools = {n: {"access": a} for n, a in others.items() if n != name}
    tools[name] = tool
    spec = make_spec(tools, data.draw(enforced_policies("access"), label="policy"))
    call = make_call(name, arguments)
    state = data.draw(run_states(call), label="state")
    before = copy.deepcopy(state)

    decision: Decision = decide(spec, call, state)

    assert decision.verdict is Verdict.DENY
    assert decision.rule == "access"
    assert decision.hits[0].rule == "access"
    assert not decision.allowed
    assert_untouched(before, state)


# --- (c) unknown tools are never allowed --------------------------------------------------------


@settings(PROFILE, max_examples=200)
@given(data=st.data())
def test_unknown_tool_is_never_allowed(data: st.DataObject) -> None:
    listed = data.draw(
        st.dictionaries(
            TOOL_NAMES, st.sampled_from(["read", "write", "approval", "blocked"]), max_size=4
        ),
        label="listed tools",
    )
    name = data.draw(
        st.one_of(TOOL_NAMES, st.text(max_size=20)).filter(lambda n: n not in listed),
        label="called tool",
    )
    arguments = data.draw(arguments_dicts, label="arguments")
    spec = make_spec(
        {n: {"access": a} for n, a in listed.items()},
        data.draw(enforced_policies("unknown_tool"), label="policy"),
    )
    call = make_call(name, arguments)
    state = data.draw(run_states(call), label="state")
    before = copy.deepcopy(state)

    decision = decide(spec, call, state)

    assert decision.verdict is Verdict.DENY
    assert decision.rule == "unknown_tool"
    assert [h.rule for h in decision.hits] == ["unknown_tool"]
    assert_untouched(before, state)
