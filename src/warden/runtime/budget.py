"""Budgets: what a run has used, and the per-day check at run start.

Limits come from the spec's ``budgets`` (steps, tool calls, tokens, cost in USD,
wall-clock seconds per run; runs and cost per agent per UTC day). The run's ``Usage``
is charged as calls happen; the first limit crossed raises ``BudgetExceeded``, and the
run ends ``escalated`` (with a handoff) or ``failed`` as the spec's escalation says. The
interceptor that charges each tool call is ``runtime.chain.budget_gate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from warden.core.spec import DailyBudget, RunBudget
from warden.errors import BudgetExceeded

__all__ = ["Usage", "check_daily"]


@dataclass(slots=True)
class Usage:
    """What a run has used so far.

    Attributes:
        steps: Tool calls plus model calls.
        tool_calls: Tool calls, whatever their outcome.
        input_tokens: Model input tokens.
        output_tokens: Model output tokens.
        cost_usd: Model cost, USD.
    """

    steps: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def check_before_step(self, limits: RunBudget, *, tool: bool, elapsed_s: float) -> None:
        """Raise if one more step (a tool call when ``tool``) would break a limit.

        Raises:
            BudgetExceeded: Naming the limit, the amount used and the limit.
        """
        if limits.max_steps is not None and self.steps + 1 > limits.max_steps:
            raise BudgetExceeded("per_run.max_steps", self.steps + 1, limits.max_steps)
        if (
            tool
            and limits.max_tool_calls is not None
            and self.tool_calls + 1 > limits.max_tool_calls
        ):
            raise BudgetExceeded(
                "per_run.max_tool_calls", self.tool_calls + 1, limits.max_tool_calls
            )
        if limits.max_wall_clock_s is not None and elapsed_s > limits.max_wall_clock_s:
            raise BudgetExceeded(
                "per_run.max_wall_clock_s", round(elapsed_s, 3), limits.max_wall_clock_s
            )
        self.check_spend(limits)

    def check_spend(self, limits: RunBudget) -> None:
        """Raise if tokens or cost already exceed their limits.

        Raises:
            BudgetExceeded: Naming the limit.
        """
        if limits.max_tokens is not None and self.tokens > limits.max_tokens:
            raise BudgetExceeded("per_run.max_tokens", self.tokens, limits.max_tokens)
        if limits.max_cost_usd is not None and self.cost_usd > limits.max_cost_usd:
            raise BudgetExceeded("per_run.max_cost_usd", self.cost_usd, limits.max_cost_usd)


def check_daily(limits: DailyBudget, runs_today: int, cost_today_usd: float) -> None:
    """Raise if starting one more run today would break the per-day budget.

    Args:
        limits: The spec's ``budgets.per_day``.
        runs_today: Runs the agent started since 00:00 UTC.
        cost_today_usd: Their model cost, USD.

    Raises:
        BudgetExceeded: ``per_day.max_runs`` or ``per_day.max_cost_usd``.
    """
    if limits.max_runs is not None and runs_today + 1 > limits.max_runs:
        raise BudgetExceeded("per_day.max_runs", runs_today + 1, limits.max_runs)
    if limits.max_cost_usd is not None and cost_today_usd >= limits.max_cost_usd:
        raise BudgetExceeded("per_day.max_cost_usd", cost_today_usd, limits.max_cost_usd)
