"""The policy interceptor: decide, record, then allow, deny, ask a person, or propose.

Runs the pure policy engine on the validated call and the run state. ``deny`` raises
``PolicyDenied``. ``require_approval`` waits for a person (``approval_wait``, which
also watches the kill switch); once approved, the call is decided again with the run's
policy session (the spec the run started with) and the run state as it is now, so a
deny that arose while it waited still denies. In shadow mode an allowed call with side effects
is recorded as a proposal and not executed.
"""

from __future__ import annotations

from warden.core.decisions import Decision, Verdict
from warden.core.runs import RunMode, ToolCallStatus
from warden.errors import PolicyDenied
from warden.runtime.chain.approval_wait import ApprovalWait
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.ratelimit import RateWindow
from warden.runtime.shadow import Proposal

__all__ = ["PolicyGate"]


class PolicyGate:
    """Interceptor: the policy decision for every call.

    Args:
        rate_window: Per-minute call counts of this agent in this process (``rate_limit``).
        approvals: Waits for a person when the decision is ``require_approval``.
    """

    def __init__(self, rate_window: RateWindow, approvals: ApprovalWait) -> None:
        self.rate_window = rate_window
        self.approvals = approvals

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Decide the call and act on the verdict."""
        run = ctx.run
        session = run.policy
        window = self.rate_window
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
                self.approvals(ctx)
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
