"""The policy rules, one small function each.

Each rule looks at (tool spec, call, run state, agent policy settings) and either stays
silent (``None``) or fires with the verdict it asks for and a plain sentence. The engine
applies each rule's mode (enforce / advisory) and combines them. Rule names are stable: a
spec refers to them in ``policy.rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warden.core.calls import CallInput, RunState
from warden.core.decisions import Verdict
from warden.core.spec import Access, FlowAction, PolicySettings, ToolSpec
from warden.policy.constraints import violations
from warden.policy.expressions import ExpressionError, evaluate

__all__ = ["RULE_CHECKS", "Fired", "RuleCheck"]

Fired = tuple[Verdict, str]
"""What a rule asks for, and why (one sentence)."""

RuleCheck = Callable[[ToolSpec, CallInput, RunState, PolicySettings], Fired | None]


def _flow(action: FlowAction) -> Verdict:
    return Verdict.DENY if action is FlowAction.DENY else Verdict.REQUIRE_APPROVAL


def access(tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings) -> Fired | None:
    """Blocked tools never run; approval tools always ask a person."""
    if tool.access is Access.BLOCKED:
        return Verdict.DENY, f"{call.tool} is blocked for this agent: it may never use it."
    if tool.access is Access.APPROVAL:
        return Verdict.REQUIRE_APPROVAL, f"{call.tool} always needs a person's approval."
    return None


def argument_constraints(
    tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings
) -> Fired | None:
    """Every argument must satisfy the constraints the spec declares for it."""
    problems: list[str] = []
    for name, rule in tool.arguments.items():
        present = name in call.arguments
        problems += violations(name, present, call.arguments.get(name), rule)
    if problems:
        return (
            Verdict.DENY,
            f"{call.tool} was called with arguments outside its limits: {problems[0]}",
        )
    return None


def repeated_call(
    tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings
) -> Fired | None:
    """The same tool with the same arguments ``max_repeated_calls`` times looks like a loop."""
    earlier = state.call_counts.get(call.args_hash, 0)
    if earlier + 1 >= p.max_repeated_calls:
        return (
            Verdict.DENY,
            f"{call.tool} was called {earlier + 1} times with the same arguments; "
            "the agent looks stuck in a loop.",
        )
    return None


def rate_limit(tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings) -> Fired | None:
    """Calls per run and per minute per agent."""
    limit = tool.rate_limit
    if limit is None:
        return None
    if limit.per_run is not None and state.tool_calls.get(call.tool, 0) >= limit.per_run:
        return Verdict.DENY, f"{call.tool} may be used at most {limit.per_run} times in one run."
    recent = state.agent_calls_last_minute.get(call.tool, 0)
    if limit.per_minute is not None and recent >= limit.per_minute:
        return Verdict.DENY, f"{call.tool} may be used at most {limit.per_minute} times a minute."
    return None


def blast_radius(
    tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings
) -> Fired | None:
    """At most ``max_write_calls_per_run`` calls with side effects in one run."""
    cap = p.max_write_calls_per_run
    if cap is not None and tool.has_side_effects and state.write_calls >= cap:
        return (
            Verdict.DENY,
            f"this run already made {state.write_calls} changes, the most it may make.",
        )
    return None


def untrusted_egress(
    tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings
) -> Fired | None:
    """Once untrusted content was read, sending data out needs a person (or is denied)."""
    if tool.egress and state.has_read_untrusted:
        source = state.untrusted_sources[-1]
        return (
            _flow(p.untrusted_egress),
            f"{call.tool} sends data outside after the agent read content from {source}, "
            "which anyone could have written.",
        )
    return None


def provenance(tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings) -> Fired | None:
    """Recipients, accounts and URLs must appear in the input or in trusted tool results."""
    for name in tool.provenance:
        if name not in call.arguments:
            continue
        value: Any = call.arguments[name]
        values: list[Any] = list(value) if isinstance(value, list | tuple) else [value]  # pyright: ignore[reportUnknownArgumentType]
        for item in values:
            if not state.is_trusted_value(item):
                return (
                    _flow(p.provenance),
                    f"the {name} {item!r} for {call.tool} did not come from the request or "
                    "from a trusted source.",
                )
    return None


def conditional_approval(
    tool: ToolSpec, call: CallInput, state: RunState, p: PolicySettings
) -> Fired | None:
    """The tool's ``approval_when`` CEL expression asks a person when true."""
    if tool.approval_when is None:
        return None
    try:
        needed = evaluate(tool.approval_when, call.arguments)
    except ExpressionError as exc:
        return (
            Verdict.REQUIRE_APPROVAL,
            f"the approval condition of {call.tool} could not be checked ({exc}), "
            "so a person must decide.",
        )
    if needed:
        return Verdict.REQUIRE_APPROVAL, f"{call.tool} needs approval when {tool.approval_when}."
    return None


RULE_CHECKS: tuple[tuple[str, RuleCheck], ...] = (
    ("access", access),
    ("argument_constraints", argument_constraints),
    ("repeated_call", repeated_call),
    ("rate_limit", rate_limit),
    ("blast_radius", blast_radius),
    ("untrusted_egress", untrusted_egress),
    ("provenance", provenance),
    ("conditional_approval", conditional_approval),
)
"""Rules in evaluation order (after ``unknown_tool``, which the engine checks first)."""
