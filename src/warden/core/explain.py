"""The decision trail of a run, in plain language (for ``warden runs show`` and the dashboard)."""

from __future__ import annotations

from typing import Any

from warden.core.calls import canonical_json
from warden.core.decisions import RuleMode, Verdict
from warden.core.runs import RunDetail, ToolCallRecord, ToolCallStatus

__all__ = ["explain_run", "explain_tool_call"]

_STATUS = {
    ToolCallStatus.SUCCEEDED: "ran and succeeded",
    ToolCallStatus.FAILED: "ran and failed",
    ToolCallStatus.DENIED: "was stopped",
    ToolCallStatus.INVALID: "was not run: its arguments were invalid",
    ToolCallStatus.PROPOSED: "was proposed, not run (shadow mode)",
    ToolCallStatus.REUSED: "was already done; the earlier result was reused",
    ToolCallStatus.KILLED: "was not run: the kill switch was on",
    ToolCallStatus.NOT_RUN: "was not run",
}


def _args(arguments: dict[str, Any], limit: int = 100) -> str:
    text = ", ".join(f"{k}={canonical_json(v)}" for k, v in arguments.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain_tool_call(call: ToolCallRecord) -> str:
    """One or two plain sentences about a tool call: what it was, what the policy said, what happened."""
    parts = [f"Step {call.seq}: {call.tool}({_args(call.arguments)}) {_STATUS[call.status]}"]
    if call.attempts > 1:
        parts[0] += f" after {call.attempts} attempts"
    parts[0] += "."
    d = call.decision
    if d is not None:
        if d.verdict is Verdict.ALLOW:
            parts.append(f"Policy allowed it: {d.reason}")
        else:
            word = "denied" if d.verdict is Verdict.DENY else "sent it for approval"
            parts.append(f"Policy {word} (rule {d.rule}): {d.reason}")
        for hit in d.hits:
            if hit.mode is RuleMode.ADVISORY and hit.verdict is not Verdict.ALLOW:
                parts.append(f"Would have been stopped by {hit.rule} (advisory): {hit.reason}")
    if call.error and call.status is not ToolCallStatus.DENIED:
        parts.append(f"Error: {call.error}")
    return " ".join(parts)


def explain_run(detail: RunDetail) -> list[str]:
    """The run's story, one line per step, from input to terminal state."""
    run = detail.run
    lines = [
        f"Run {run.id} of agent {run.agent} (spec {run.spec_version}, {run.mode.value} mode) "
        f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC.",
        f"Input: {canonical_json(run.input)[:300]}",
    ]
    steps: list[tuple[int, str]] = [(c.seq, explain_tool_call(c)) for c in detail.tool_calls]
    steps += [
        (
            m.seq,
            f"Step {m.seq}: model {m.model} read {m.input_tokens} tokens and wrote "
            f"{m.output_tokens}"
            + (f", costing ${m.cost_usd:.6f}." if m.cost_usd is not None else "."),
        )
        for m in detail.model_calls
    ]
    lines += [text for _, text in sorted(steps)]
    for a in detail.approvals:
        who = f" by {a.decided_by}" if a.decided_by else ""
        lines.append(
            f"Approval {a.id} for {a.tool}: {a.status.value}{who}"
            + (f" ({a.decision_reason})." if a.decision_reason else ".")
        )
    for h in detail.handoffs:
        lines.append(f"Handed to the {h.queue} queue ({h.trigger}): {h.reason}")
    end = f"Ended {run.status.value}" if run.status.is_terminal else "Still running so far"
    if run.latency_s is not None:
        end += f" after {run.latency_s:.2f} s"
    end += (
        f", {run.steps} steps, {run.input_tokens + run.output_tokens} tokens, ${run.cost_usd:.4f}."
    )
    if run.reason:
        end += f" Why: {run.reason}"
    lines.append(end)
    return lines
