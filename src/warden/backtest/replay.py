"""Replay recorded runs, call by call, through the policy with the state each call had.

Each recorded call becomes the ``CallInput`` the live runtime builds and goes through a
``PolicySession``, the same object the runtime's policy interceptor drives: the run's
input is trusted content, results of ``untrusted_output`` tools mark the run as having
read untrusted content, earlier calls count for rate, loop and blast-radius rules.

After a call the replay would have denied or sent for approval, the recorded run goes on
as it happened (the call ran, its result fed the run): what the agent would have done
after a block cannot be known from a recording.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from warden.backtest.records import RecordedCall, RecordedRun
from warden.core.calls import CallInput
from warden.core.decisions import Decision, Verdict
from warden.core.spec import AgentSpec
from warden.policy.session import PolicySession

__all__ = ["ReplayedCall", "ReplayedRun", "replay", "replay_all"]


@dataclass(frozen=True, slots=True)
class ReplayedCall:
    """A recorded call and the decision the spec gives it.

    Attributes:
        call: The recorded call.
        decision: The policy's decision under the spec being tested.
        decide_ns: Nanoseconds the decision took.
    """

    call: RecordedCall
    decision: Decision
    decide_ns: int


@dataclass(slots=True)
class ReplayedRun:
    """A recorded run with the decision for each of its calls."""

    run: RecordedRun
    calls: list[ReplayedCall] = field(default_factory=list[ReplayedCall])

    def first(self, *verdicts: Verdict) -> int | None:
        """Index of the first call whose verdict is one of ``verdicts``, or None."""
        for i, c in enumerate(self.calls):
            if c.decision.verdict in verdicts:
                return i
        return None

    @property
    def any_denied(self) -> bool:
        """True when the spec denies at least one call."""
        return self.first(Verdict.DENY) is not None

    @property
    def any_approval(self) -> bool:
        """True when at least one call would wait for a person."""
        return self.first(Verdict.REQUIRE_APPROVAL) is not None


def replay(spec: AgentSpec, run: RecordedRun) -> ReplayedRun:
    """Decide every call of ``run`` under ``spec``.

    Returns:
        The run with one ``ReplayedCall`` per recorded call, in order.
    """
    session = PolicySession.start(spec, run.id, run.input)
    out = ReplayedRun(run)
    for seq, recorded in enumerate(run.calls, start=1):
        call = CallInput(
            agent=spec.name,
            run_id=run.id,
            tool=recorded.tool,
            arguments=recorded.arguments,
            seq=seq,
        )
        t0 = time.perf_counter_ns()
        decision = session.decide(call)
        elapsed = time.perf_counter_ns() - t0
        session.attempted(call)
        out.calls.append(ReplayedCall(recorded, decision, elapsed))
        if recorded.executed or recorded.proposed:
            session.let_through(call)
        if recorded.executed and recorded.error is not None:
            session.failed(recorded.tool, recorded.error)
        elif recorded.executed:
            session.observed(recorded.tool, recorded.result)
    return out


def replay_all(spec: AgentSpec, runs: Iterable[RecordedRun]) -> Iterator[ReplayedRun]:
    """``replay`` each run, lazily."""
    for run in runs:
        yield replay(spec, run)
