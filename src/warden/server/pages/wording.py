"""The dashboard's wording: records and numbers in plain words.

What a spec allows (tool access, argument rules, budgets, escalation, kill criteria), what
a run, tool call, verdict, audit action, rollout stage or readiness item means, and how
numbers, money, durations and times are shown (also the templates' filters, installed by
``pages.common``).

Presentation only: every fact shown comes from the core models and the runtime functions
the API uses; this module only says it in words a non-technical reviewer reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warden.core.decisions import Verdict
from warden.core.runs import RunStatus, ToolCallStatus
from warden.core.spec import Access, AgentSpec, ArgumentConstraint, KillCriterion, ToolSpec

__all__ = [
    "ACCESS",
    "KILL_SWITCH_ACTIONS",
    "READINESS",
    "RUN_STATES",
    "STAGES",
    "TOOL_STATES",
    "TRIGGERS",
    "VERDICTS",
    "action_words",
    "budget_lines",
    "constraint_lines",
    "describe_value",
    "escalation_line",
    "heading",
    "kill_criterion_line",
    "pct",
    "run_tone",
    "seconds",
    "tool_notes",
    "usd",
    "when",
]

ACCESS: dict[Access, tuple[str, str]] = {
    Access.READ: ("Looks things up", "Reads only; changes nothing."),
    Access.WRITE: (
        "Makes changes",
        "Changes things when the policy allows (only proposed in shadow).",
    ),
    Access.APPROVAL: ("Needs approval", "A person must approve every call before it runs."),
    Access.BLOCKED: ("Never allowed", "This agent may never use it, whatever it asks."),
}
"""Tool access: a short label and one sentence."""

RUN_STATES: dict[RunStatus, tuple[str, str]] = {
    RunStatus.RUNNING: ("Running", "Still working."),
    RunStatus.RESOLVED: ("Resolved", "The agent finished the job."),
    RunStatus.ESCALATED: ("Escalated", "Handed to a person with a handoff packet."),
    RunStatus.FAILED: ("Failed", "An error or a spending limit ended it."),
    RunStatus.BLOCKED: ("Blocked", "The policy stopped it."),
    RunStatus.KILLED: ("Killed", "The kill switch stopped it."),
    RunStatus.INTERRUPTED: ("Interrupted", "Its process stopped before it finished."),
}
"""Run states: a label and what it means."""

TOOL_STATES: dict[ToolCallStatus, str] = {
    ToolCallStatus.SUCCEEDED: "Ran",
    ToolCallStatus.FAILED: "Ran and failed",
    ToolCallStatus.DENIED: "Stopped",
    ToolCallStatus.INVALID: "Not run: invalid arguments",
    ToolCallStatus.PROPOSED: "Proposed only (shadow)",
    ToolCallStatus.REUSED: "Already done: earlier result reused",
    ToolCallStatus.KILLED: "Not run: kill switch",
    ToolCallStatus.NOT_RUN: "Not run",
}
"""What became of a tool call, as a badge."""

VERDICTS: dict[Verdict, str] = {
    Verdict.ALLOW: "Allowed",
    Verdict.REQUIRE_APPROVAL: "Needs a person's approval",
    Verdict.DENY: "Denied",
}

TRIGGERS: dict[str, str] = {
    "low_confidence": "the agent was not confident enough",
    "budget_exceeded": "a spending limit was reached",
    "policy_denied": "the policy stopped a step",
    "tool_failed": "a tool kept failing",
    "approval_timeout": "nobody approved in time",
    "manual": "the agent asked for a person",
    "fallback": "the agent was not handling this work",
    "kill_switch": "the kill switch was on",
}
"""Why a run was handed to a person."""

_ACTIONS: dict[str, str] = {
    "kill_switch.engaged": "Kill switch engaged",
    "kill_switch.released": "Kill switch released",
    "kill_switch.release_requested": "Release of the kill switch requested",
    "approval.approved": "Approved a call",
    "approval.denied": "Denied a call",
    "approval.expired": "Approval expired",
    "approval.cancelled": "Approval cancelled",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "api.denied": "Access refused",
}

KILL_SWITCH_ACTIONS: tuple[str, ...] = tuple(a for a in _ACTIONS if a.startswith("kill_switch."))
"""The audit actions of the kill switch (an agent's timeline shows them)."""

_METRICS: dict[str, str] = {
    "error_rate": "error rate",
    "escalation_rate": "escalation rate",
    "policy_denial_rate": "policy denial rate",
    "tool_failure_rate": "tool failure rate",
    "cost_per_completed_usd": "cost per completed run",
    "latency_p95_s": "95th percentile latency",
    "shadow_agreement": "agreement with people (shadow)",
}


def pct(value: float | None, digits: int = 0) -> str:
    """``0.123`` as ``12 %``; ``—`` when there is no value."""
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def usd(value: float | None) -> str:
    """Dollars with enough digits for fractions of a cent; ``—`` when unknown."""
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"


def seconds(value: float | None) -> str:
    """A duration in plain units."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def when(at: datetime | None) -> str:
    """A time as ``2026-01-03 14:05 UTC``."""
    return "—" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"


def run_tone(status: RunStatus) -> str:
    """The badge colour of a run state: green, amber, red or grey."""
    if status is RunStatus.RESOLVED:
        return "green"
    if status is RunStatus.ESCALATED:
        return "amber"
    if status is RunStatus.RUNNING:
        return "grey"
    return "red"


def action_words(action: str) -> str:
    """An audit action (``kill_switch.engaged``) in words."""
    if action in _ACTIONS:
        return _ACTIONS[action]
    return action.replace("_", " ").replace(".", ": ").capitalize()


def constraint_lines(arguments: dict[str, ArgumentConstraint]) -> list[str]:
    """One sentence per argument constraint of a tool."""
    lines: list[str] = []
    for name, c in arguments.items():
        rules: list[str] = []
        if c.enum is not None:
            rules.append("one of " + ", ".join(str(v) for v in c.enum))
        if c.min is not None and c.max is not None:
            rules.append(f"between {c.min:g} and {c.max:g}")
        elif c.min is not None:
            rules.append(f"at least {c.min:g}")
        elif c.max is not None:
            rules.append(f"at most {c.max:g}")
        if c.max_length is not None:
            rules.append(f"no longer than {c.max_length}")
        if c.allow is not None:
            rules.append("matching " + " or ".join(c.allow))
        if c.pattern is not None:
            rules.append(f"in the form {c.pattern}")
        text = f"{name} must be " + "; ".join(rules) if rules else f"{name} is checked"
        lines.append(text + (" (always required)" if c.required else ""))
    return lines


def tool_notes(tool: ToolSpec) -> list[str]:
    """Other rules a tool carries, one sentence each."""
    notes: list[str] = []
    if tool.approval_when:
        notes.append(f"A person must approve when {tool.approval_when}.")
    if tool.rate_limit is not None:
        if tool.rate_limit.per_run is not None:
            notes.append(f"At most {tool.rate_limit.per_run} call(s) per run.")
        if tool.rate_limit.per_minute is not None:
            notes.append(f"At most {tool.rate_limit.per_minute} call(s) per minute.")
    if tool.idempotent:
        notes.append("Safe to retry: a repeated call is applied once.")
    if tool.untrusted_output:
        notes.append("Its results may contain text written by outsiders.")
    if tool.egress:
        notes.append("It sends data outside the organisation.")
    if tool.provenance:
        notes.append(", ".join(tool.provenance) + " must come from the input or a trusted result.")
    return notes


def budget_lines(spec: AgentSpec) -> list[str]:
    """The spending limits in words (empty when none is set)."""
    run, day = spec.spec.budgets.per_run, spec.spec.budgets.per_day
    per_run = [
        f"{run.max_steps} steps" if run.max_steps else "",
        f"{run.max_tool_calls} tool calls" if run.max_tool_calls else "",
        f"{run.max_tokens:,} tokens" if run.max_tokens else "",
        usd(run.max_cost_usd) if run.max_cost_usd else "",
        seconds(run.max_wall_clock_s) if run.max_wall_clock_s else "",
    ]
    per_day = [
        usd(day.max_cost_usd) if day.max_cost_usd else "",
        f"{day.max_runs:,} runs" if day.max_runs else "",
    ]
    lines: list[str] = []
    if any(per_run):
        lines.append("Each run: at most " + ", ".join(p for p in per_run if p) + ".")
    if any(per_day):
        lines.append("Each day: at most " + ", ".join(p for p in per_day if p) + ".")
    return lines


def escalation_line(spec: AgentSpec) -> str:
    """Where runs go when a person should take over, and when."""
    esc = spec.spec.escalation
    if esc is None:
        return "No human queue is set: runs that cannot finish end as failed or blocked."
    why = [TRIGGERS.get(t.value, t.value) for t in esc.on]
    text = f"Runs go to the {esc.queue} queue when " + (", or ".join(why) if why else "asked")
    if "low_confidence" in [t.value for t in esc.on]:
        text += f" (confidence below {esc.confidence_threshold:.0%})"
    return text + "."


def kill_criterion_line(k: KillCriterion) -> str:
    """A kill criterion in words."""
    metric = _METRICS.get(k.metric, k.metric)
    if k.metric == "cost_per_completed_usd":
        limit = usd(k.threshold)
    elif k.metric == "latency_p95_s":
        limit = seconds(k.threshold)
    else:
        limit = pct(k.threshold)
    side = "below" if k.metric == "shadow_agreement" else "above"
    action = {"pause": "pause the agent", "rollback": "roll it back", "page": "page the owner"}[
        k.action
    ]
    mode = "records only (advisory)" if k.mode.value == "advisory" else "acts on its own (enforced)"
    return (
        f"If the {metric} is {side} {limit} over {seconds(k.window_s)} "
        f"(at least {k.min_samples} runs): {action}. Currently {mode}."
    )


def describe_value(value: Any) -> str:
    """A short one-line rendering of any value (for table cells)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        items: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return ", ".join(f"{k}: {describe_value(v)}" for k, v in items.items())
    if isinstance(value, list):
        seq: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return ", ".join(describe_value(v) for v in seq)
    return str(value)


READINESS: dict[str, str] = {
    "owners": "An owner and a different backup owner",
    "scope": "The scope fits on a page",
    "write_tools_constrained": "Every write tool is constrained",
    "budgets": "Spending limits are set",
    "kill_criteria": "Kill criteria are agreed",
    "runbook": "The runbook exists",
    "oncall": "On-call pages arrive",
    "kill_switch_drill": "The kill switch was drilled recently",
    "eval_set": "The eval set passes",
    "no_rollout_overrides": "No run skipped the rollout",
}
"""Readiness checklist items as headings."""

STAGES: dict[str, str] = {
    "shadow": "Shadow: proposes, people act",
    "canary": "Canary: live for a slice of traffic",
    "live": "Live",
    "paused": "Paused (kill switch on)",
    "rolled_back": "Rolled back",
}
"""Rollout stages in words."""


def heading(name: str) -> str:
    """A checklist or gate item name (``days_in_shadow``, ``slo:latency``) as a heading."""
    if name in READINESS:
        return READINESS[name]
    if name.startswith("slo:"):
        return "Objective met: " + name[4:].replace("_", " ")
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]
