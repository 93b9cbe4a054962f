"""The budget interceptor: a tool call is a step; refuse it when a run limit would be crossed.

Limits come from the spec's ``budgets.per_run`` and are charged to the run's ``Usage``
(``warden.runtime.budget``); the first limit crossed raises ``BudgetExceeded``. The
wall-clock limit is charged the run's working time: time spent waiting for a person's
approval is not the agent's (``RunView.working_s``).
"""

from __future__ import annotations

from warden.runtime.chain.interceptor import CallContext, Proceed

__all__ = ["BudgetGate"]


class BudgetGate:
    """Interceptor: charge one step and one tool call, or raise ``BudgetExceeded``."""

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Check the run's limits (steps, tool calls, wall clock, tokens, cost), then proceed.

        Raises:
            BudgetExceeded: Naming the limit, the amount used and the limit.
        """
        run = ctx.run
        run.usage.check_before_step(run.limits, tool=True, elapsed_s=run.working_s)
        run.usage.steps += 1
        run.usage.tool_calls += 1
        return proceed(ctx)
