"""The policy engine: a pure function from (spec, call, run state) to a decision.

Deny by default: a tool the spec does not list is denied, and a call is allowed only when
the tool's access is ``read`` or ``write`` (or ``approval``, once a person approved) and no
enforced rule objects. Rules fire independently; every hit is recorded; the most
restrictive enforced verdict wins (deny > require_approval > allow); advisory hits are kept
as "would have denied" and do not change the verdict.
"""

from __future__ import annotations

from warden.core.calls import CallInput, RunState
from warden.core.decisions import Decision, RuleHit, RuleMode, Verdict
from warden.core.spec import Access, AgentSpec
from warden.policy.rules import RULE_CHECKS

__all__ = ["decide"]


def decide(spec: AgentSpec, call: CallInput, state: RunState) -> Decision:
    """Decide one tool call.

    Args:
        spec: The agent spec in force.
        call: The call, with validated arguments.
        state: What the run did so far (not modified).

    Returns:
        A ``Decision`` naming the deciding rule and a one-sentence reason, with every rule
        that fired in ``hits``.
    """
    settings = spec.spec.policy
    tool = spec.tool(call.tool)
    if tool is None:
        mode = settings.mode_of("unknown_tool")
        reason = f"{call.tool} is not listed in the agent's spec, so it may not be used."
        hit = RuleHit(rule="unknown_tool", verdict=Verdict.DENY, mode=mode, reason=reason)
        if mode is RuleMode.ENFORCE:
            return Decision(verdict=Verdict.DENY, rule="unknown_tool", reason=reason, hits=(hit,))
        return Decision(
            verdict=Verdict.ALLOW,
            rule="unknown_tool",
            reason=f"{call.tool} is not in the spec; allowed only because the rule is advisory.",
            hits=(hit,),
        )

    hits: list[RuleHit] = []
    winner: RuleHit | None = None
    for name, check in RULE_CHECKS:
        fired = check(tool, call, state, settings)
        if fired is None:
            continue
        verdict, reason = fired
        hit = RuleHit(rule=name, verdict=verdict, mode=settings.mode_of(name), reason=reason)
        hits.append(hit)
        if hit.mode is RuleMode.ENFORCE and (
            winner is None or verdict.severity > winner.verdict.severity
        ):
            winner = hit
    if winner is not None:
        return Decision(
            verdict=winner.verdict, rule=winner.rule, reason=winner.reason, hits=tuple(hits)
        )
    kind = {Access.READ: "reads data", Access.WRITE: "makes changes"}.get(tool.access, "runs")
    return Decision(
        verdict=Verdict.ALLOW,
        rule="access",
        reason=f"{call.tool} {kind} and is allowed for this agent within its limits.",
        hits=tuple(hits),
    )
