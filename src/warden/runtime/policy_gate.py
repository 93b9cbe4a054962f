"""The policy interceptor: decide, record, then allow, deny, ask a person, or propose.

Runs the pure policy engine on the validated call and the run state. ``deny`` raises
``PolicyDenied``. ``require_approval`` waits for a person (see ``approvals``); once
approved, the call is decided again against the current spec and kill switch, since
either may have changed while it waited. In shadow mode an allowed call with side effects
is recorded as a proposal and not executed.
"""

from __future__ import annotations

from warden.core.decisions import Decision, Verdict
from warden.core.runs import RunMode, ToolCallStatus
from warden.errors import PolicyDenied
from warden.runtime.approvals import wait_for_approval
from warden.runtime.interceptors import CallContext, Proceed
from warden.runtime.shadow import Proposal

__all__ = ["PolicyGate"]


class PolicyGate:
    """Interceptor: the policy decision for every call."""

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Decide the call and act on the verdict."""
        run = ctx.run
        session = run.policy
        window = run.governor.rate_window
        try:
            decision = ctx.decision = session.decide(
                ctx.call, agent_calls_last_minute=window.counts(ctx.call.tool)
            )
            side_effects = ctx.spec_tool is not None and ctx.spec_tool.has_side_effects
            if decision.verdict is Verdict.DENY:
                ctx.status = ToolCallStatus.DENIED
                raise PolicyDenied(ctx.call.tool, decision.rule, decision.reason)
            if run.mode is RunMode.SHADOW and (
                side_effects or decision.verdict is Verdict.REQUIRE_APPROVAL
            ):
                ctx.status = ToolCallStatus.PROPOSED
                session.let_through(ctx.call)
                proposal = Proposal(tool=ctx.call.tool, arguments=ctx.call.arguments)
                ctx.result_json = proposal.model_dump(mode="json")
                return proposal
            if decision.verdict is Verdict.REQUIRE_APPROVAL:
                wait_for_approval(ctx)
                again = session.decide(
                    ctx.call, agent_calls_last_minute=window.counts(ctx.call.tool)
                )
                ctx.decision = _after_approval(ctx, again)
        finally:
            session.attempted(ctx.call)
        session.let_through(ctx.call)
        window.add(ctx.call.tool)
        return proceed(ctx)


def _after_approval(ctx: CallContext, again: Decision) -> Decision:
    """Re-check after a person approved: a deny now (changed spec) still denies."""
    if again.verdict is Verdict.DENY:
        ctx.status = ToolCallStatus.DENIED
        raise PolicyDenied(ctx.call.tool, again.rule, again.reason)
    if again.verdict is Verdict.REQUIRE_APPROVAL:
        return again.model_copy(
            update={
                "verdict": Verdict.ALLOW,
                "reason": f"A person approved it ({again.reason})",
            }
        )
    return again
