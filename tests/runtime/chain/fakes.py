"""Fakes for testing one interceptor at a time: its collaborators, the run it sees, the
rest of the chain (``RecordingProceed``) and a hand-built ``CallContext``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warden.core.calls import CallInput
from warden.core.clock import FakeClock
from warden.core.events import Event
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    IdempotencyRecord,
    RunMode,
    ToolCallStatus,
)
from warden.core.spec import AgentSpec, RunBudget
from warden.errors import KillSwitchEngaged, RunStateError, StoreUnavailable
from warden.policy.session import PolicySession
from warden.runtime.budget import Usage
from warden.runtime.chain.interceptor import CallContext
from warden.runtime.tools import GovernedTool

__all__ = [
    "Decided",
    "FakeKillSwitch",
    "FakeRateWindow",
    "FakeRecorder",
    "FakeRun",
    "FakeStore",
    "RecordingProceed",
    "SleepRecordingClock",
    "call_context",
]


class FakeKillSwitch:
    """A kill switch: ``check`` raises ``KillSwitchEngaged`` when engaged, and counts calls.

    Attributes:
        checks: The ``fresh`` argument of every check, in order.
        engage_on_check: Engage the switch on this check (1-based), e.g. mid-wait.
        error: Raise this instead (e.g. ``StoreUnavailable``: the switch cannot be read).
    """

    def __init__(self, *, engaged: bool = False, reason: str = "incident 42") -> None:
        self.engaged = engaged
        self.reason = reason
        self.checks: list[bool] = []
        self.engage_on_check: int | None = None
        self.error: BaseException | None = None

    def engage(self, reason: str = "incident 42") -> None:
        self.engaged, self.reason = True, reason

    def check(self, *, fresh: bool = False) -> None:
        self.checks.append(fresh)
        if self.error is not None:
            raise self.error
        if self.engage_on_check is not None and len(self.checks) >= self.engage_on_check:
            self.engaged = True
        if self.engaged:
            raise KillSwitchEngaged("test-agent", self.reason)


class FakeRecorder:
    """A recorder that keeps what it is given; ``down = True`` makes ``flush`` raise.

    Attributes:
        journal: Shared log of what happened, in order (``"flush"``, ``"emit"``, ...).
    """

    def __init__(self, journal: list[str] | None = None) -> None:
        self.emitted: list[Event] = []
        self.flushes = 0
        self.down = False
        self.journal = journal if journal is not None else []

    def emit(self, event: Event) -> None:
        self.journal.append("emit")
        self.emitted.append(event)

    def flush(self) -> None:
        self.journal.append("flush")
        self.flushes += 1
        if self.down:
            raise StoreUnavailable("store unreachable: connection refused")


@dataclass
class Decided:
    """What a person does to a pending request on a given poll."""

    poll: int
    status: ApprovalStatus
    actor: str | None = "carol"
    reason: str | None = "checked"
    args_hash: str | None = None


class FakeStore:
    """The runtime store's idempotency and approval methods, in memory.

    Attributes:
        idempotency: Applied writes by key (``get_idempotency`` reads them).
        approvals: Requests by id.
        polls: ``get_approval`` calls.
        decisions: Every ``decide_approval`` call as ``(id, status, actor, reason)``.
        person: When set, a person decides the request on that poll.
        decide_error: ``decide_approval`` raises this (e.g. a blip of the store).
        before_decide: Called first in ``decide_approval`` (e.g. a person decides first).
    """

    def __init__(self, journal: list[str] | None = None) -> None:
        self.idempotency: dict[str, IdempotencyRecord] = {}
        self.idempotency_lookups: list[str] = []
        self.approvals: dict[str, ApprovalRequest] = {}
        self.polls = 0
        self.decisions: list[tuple[str, ApprovalStatus, str, str]] = []
        self.person: Decided | None = None
        self.decide_error: BaseException | None = None
        self.before_decide: Callable[[str], None] | None = None
        self.journal = journal if journal is not None else []

    # -- idempotency
    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        self.idempotency_lookups.append(key)
        return self.idempotency.get(key)

    # -- approvals
    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        self.journal.append("create_approval")
        return self.approvals.setdefault(request.id, request)  # a stored one wins (restart)

    # -- scope
    current_change: Any = None

    def current_spec_change(self, agent: str) -> Any:
        return self.current_change

    on_poll: Callable[[str], None] | None = None

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        self.polls += 1
        if self.on_poll is not None:
            self.on_poll(approval_id)
        person = self.person
        current = self.approvals.get(approval_id)
        if person is not None and current is not None and self.polls == person.poll:
            update: dict[str, Any] = {
                "status": person.status,
                "decided_by": person.actor,
                "decision_reason": person.reason,
            }
            if person.args_hash is not None:
                update["args_hash"] = person.args_hash
            current = self.approvals[approval_id] = current.model_copy(update=update)
        return current

    def decide(self, approval_id: str, status: ApprovalStatus, actor: str, reason: str) -> None:
        """A decision made elsewhere (a person, another process)."""
        current = self.approvals[approval_id]
        self.approvals[approval_id] = current.model_copy(
            update={"status": status, "decided_by": actor, "decision_reason": reason}
        )

    def decide_approval(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        actor: str,
        reason: str,
        at: datetime,
    ) -> ApprovalRequest:
        if self.before_decide is not None:
            self.before_decide(approval_id)
        self.decisions.append((approval_id, status, actor, reason))
        if self.decide_error is not None:
            raise self.decide_error
        current = self.approvals[approval_id]
        if current.status is not ApprovalStatus.PENDING:
            raise RunStateError(f"approval {approval_id} was already {current.status.value}")
        decided = current.model_copy(
            update={
                "status": status,
                "decided_by": actor,
                "decision_reason": reason,
                "decided_at": at,
            }
        )
        self.approvals[approval_id] = decided
        return decided


class FakeRateWindow:
    """Per-minute call counts: ``counts`` answers from ``recent``; ``add`` is recorded."""

    def __init__(self, recent: dict[str, int] | None = None) -> None:
        self.recent = dict(recent or {})
        self.added: list[str] = []
        self.asked: list[str] = []

    def counts(self, tool: str) -> dict[str, int]:
        self.asked.append(tool)
        return {tool: self.recent[tool]} if tool in self.recent else {}

    def add(self, tool: str) -> None:
        self.added.append(tool)


class SleepRecordingClock(FakeClock):
    """A ``FakeClock`` that also remembers each sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@dataclass
class FakeRun:
    """The run an interceptor sees (``RunView``), with no governor behind it."""

    spec: AgentSpec
    id: str = "run_test"
    mode: RunMode = RunMode.LIVE
    input: Any = "a ticket"
    usage: Usage = field(default_factory=Usage)
    limits: RunBudget | None = None  # default: the spec's budgets.per_run
    policy: PolicySession | None = None  # default: a fresh session of the spec
    applied_writes: dict[str, IdempotencyRecord] = field(
        default_factory=dict[str, IdempotencyRecord]
    )
    elapsed_s: float = 0.0
    waiting_s: float = 0.0
    spec_hash: str = ""  # default: the spec's content hash
    progress: list[tuple[int, bool]] = field(default_factory=list[tuple[int, bool]])

    @property
    def working_s(self) -> float:
        return self.elapsed_s - self.waiting_s

    def __post_init__(self) -> None:
        if self.limits is None:
            self.limits = self.spec.spec.budgets.per_run
        if self.policy is None:
            self.policy = PolicySession.start(self.spec, self.id, self.input)
        if not self.spec_hash:
            self.spec_hash = self.spec.content_hash()

    def emit_progress(self, ctx: CallContext, *, waiting: bool) -> None:
        self.progress.append((ctx.call.seq, waiting))


def call_context(
    run: FakeRun,
    tool: str,
    arguments: dict[str, Any] | None = None,
    *,
    fn: Callable[..., Any] | None = None,
    seq: int = 1,
    idempotency_key: str | None = None,
) -> CallContext:
    """A ``CallContext`` as ``Run.call_tool`` builds it: the spec's tool, and ``fn``
    registered under ``tool`` when given."""
    return CallContext(
        run=run,  # a RunView
        call=CallInput(
            agent=run.spec.name, run_id=run.id, tool=tool, arguments=arguments or {}, seq=seq
        ),
        spec_tool=run.spec.tool(tool),
        tool=GovernedTool.from_function(fn, tool) if fn is not None else None,
        idempotency_key=idempotency_key,
    )


class RecordingProceed:
    """The rest of the chain: records each call, then raises or answers as scripted.

    Like the terminal it stands for, each call counts an attempt; a success sets the
    status to ``succeeded`` and ``result_json`` to the result.

    Args:
        result: What a successful call returns.
        outcomes: Per call, in order: an exception to raise or a value to return; once
            they run out, calls succeed with ``result``.
    """

    def __init__(
        self,
        result: Any = "done",
        *,
        outcomes: list[Any] | None = None,
        journal: list[str] | None = None,
    ) -> None:
        self.result = result
        self.outcomes = list(outcomes or [])
        self.calls: list[CallContext] = []
        self.journal = journal if journal is not None else []

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def __call__(self, ctx: CallContext) -> Any:
        self.journal.append("proceed")
        self.calls.append(ctx)
        ctx.attempts += 1
        outcome = self.outcomes.pop(0) if self.outcomes else self.result
        if isinstance(outcome, BaseException):
            raise outcome
        ctx.status = ToolCallStatus.SUCCEEDED
        ctx.result_json = outcome
        return outcome
