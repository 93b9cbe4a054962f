"""A policy session: the policy's view of one run, shared by the runtime and the backtest.

This is the one place that knows the order of things for a run: decide a call, count the
attempt, count what was let through, learn from the result (trusted content, or a read of
untrusted content) or from the error of a tool that ran and failed. The live runtime
(``runtime.policy_gate``) and the policy backtest (``warden.backtest``) both drive a
``PolicySession``, so a replayed call is decided by the same code, with the same run
state, as the live call was.
"""

from __future__ import annotations

from typing import Any

from warden.core.calls import CallInput, RunState
from warden.core.decisions import Decision
from warden.core.spec import AgentSpec
from warden.policy.engine import decide

__all__ = ["PolicySession"]


class PolicySession:
    """Decide the calls of one run against ``spec``, keeping its ``RunState``.

    Args:
        spec: The agent spec in force.
        state: The run's state (``RunState.start(agent, run_id, input)`` for a new run).
    """

    def __init__(self, spec: AgentSpec, state: RunState) -> None:
        self.spec = spec
        self.state = state

    @classmethod
    def start(cls, spec: AgentSpec, run_id: str, run_input: Any) -> PolicySession:
        """A session for a new run of ``spec`` whose (trusted) input is ``run_input``."""
        return cls(spec, RunState.start(spec.name, run_id, run_input))

    def decide(
        self, call: CallInput, *, agent_calls_last_minute: dict[str, int] | None = None
    ) -> Decision:
        """The decision for ``call`` given everything the run did so far (state unchanged).

        Args:
            call: The call, with validated arguments.
            agent_calls_last_minute: Calls per tool by the agent in the last 60 s, for the
                per-minute rate limit (``{}`` when unknown).
        """
        self.state.agent_calls_last_minute = agent_calls_last_minute or {}
        return decide(self.spec, call, self.state)

    def attempted(self, call: CallInput) -> None:
        """Count an attempt of ``call``, whatever its decision (loop detection)."""
        self.state.note_attempt(call)

    def let_through(self, call: CallInput) -> None:
        """Count ``call`` as let through (allowed, approved, or proposed in shadow mode)."""
        tool = self.spec.tool(call.tool)
        self.state.note_allowed(call, side_effects=tool is not None and tool.has_side_effects)

    def observed(self, tool: str, result: Any) -> None:
        """Learn from a tool's result: trusted content, or a read of untrusted content."""
        spec_tool = self.spec.tool(tool)
        if spec_tool is not None:
            self.state.note_result(tool, result, untrusted=spec_tool.untrusted_output)

    def failed(self, tool: str, error: str) -> None:
        """Learn from a tool that ran and raised: its error reached the agent.

        An exception can carry the same third-party text a result would (a web fetch whose
        404 page says "ignore previous instructions"), so a failed call of an
        ``untrusted_output`` tool taints the run exactly as its result would: egress now
        needs a person (``untrusted_egress``). Error text is never trusted content, whatever
        the tool, so it cannot vouch for a recipient (``provenance``); a trusted tool's
        failure changes nothing.

        Args:
            tool: The tool that failed.
            error: The error text the agent saw (never added to trusted content).
        """
        spec_tool = self.spec.tool(tool)
        if spec_tool is not None and spec_tool.untrusted_output:
            self.state.note_untrusted(tool)
