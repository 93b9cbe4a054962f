"""Records of runs and what happened in them: tool calls, model calls, approvals, handoffs.

These pydantic models are the schema of the store, of the CLI's ``--json`` output and
(later) of the API. SQL tables mirror them inside the store adapter only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warden.core.decisions import Decision
from warden.core.spec import AgentSpec

__all__ = [
    "TERMINAL_STATES",
    "ApprovalRequest",
    "ApprovalStatus",
    "Handoff",
    "HandoffStatus",
    "IdempotencyRecord",
    "ModelCallRecord",
    "RunDetail",
    "RunFilter",
    "RunMode",
    "RunRecord",
    "RunStatus",
    "SpecVersion",
    "ToolCallRecord",
    "ToolCallStatus",
]


class _Record(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class RunStatus(StrEnum):
    """Where a run is. Every run ends in exactly one terminal state (all but ``running``)."""

    RUNNING = "running"
    RESOLVED = "resolved"
    """The agent finished the job."""
    ESCALATED = "escalated"
    """Handed to a human queue with a handoff packet."""
    FAILED = "failed"
    """An error or a budget stop ended it."""
    BLOCKED = "blocked"
    """A policy denial ended it."""
    KILLED = "killed"
    """The kill switch ended it."""
    INTERRUPTED = "interrupted"
    """Its process stopped (crash, Ctrl-C) or its heartbeat went stale."""

    @property
    def is_terminal(self) -> bool:
        """True for every state but ``running``."""
        return self is not RunStatus.RUNNING


TERMINAL_STATES = frozenset(s for s in RunStatus if s is not RunStatus.RUNNING)


class RunMode(StrEnum):
    """How a run treats write tools, as the rollout routed it."""

    LIVE = "live"
    """Write tools execute."""
    SHADOW = "shadow"
    """Write tools are recorded as proposals and not executed; read tools execute."""
    FALLBACK = "fallback"
    """Not the agent's run (outside the canary slice, paused, rolled back, kill switch on):
    recorded, and its work handed to the rollout's fallback; the agent does nothing."""


class ToolCallStatus(StrEnum):
    """What became of one tool call."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Raised (after retries), timed out, or returned an invalid result."""
    DENIED = "denied"
    """The policy (or a human, for approvals) said no; not executed."""
    INVALID = "invalid"
    """Arguments failed validation; not executed."""
    PROPOSED = "proposed"
    """Shadow mode: a write call recorded, not executed."""
    REUSED = "reused"
    """Idempotency key seen before: the stored result was returned, not executed again."""
    KILLED = "killed"
    """The kill switch stopped it before execution."""
    NOT_RUN = "not_run"
    """Stopped before execution by a budget, a missing approval or an unreachable store."""


class ToolCallRecord(_Record):
    """One tool call in a run, with its policy decision."""

    run_id: str
    seq: int
    """Step number within the run (1-based, shared with model calls)."""
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    args_hash: str = ""
    status: ToolCallStatus
    decision: Decision | None = None
    """None when the call never reached the policy (invalid arguments, kill switch)."""
    attempts: int = 0
    """Times the tool function was executed (retries included)."""
    idempotency_key: str | None = None
    approval_id: str | None = None
    result: Any = None
    error: str | None = None
    error_code: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    latency_s: float = 0.0
    """Seconds from call to return, waits and retries included."""


class ModelCallRecord(_Record):
    """One model call in a run."""

    run_id: str
    seq: int
    model: str
    provider: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """None when the model is not in the price table and no cost was given."""
    latency_s: float = 0.0
    attempts: int = 1
    """1 plus the number of re-asks for invalid structured output."""
    error: str | None = None
    at: datetime


class RunRecord(_Record):
    """A run: one task an agent took on, from input to terminal state."""

    id: str
    agent: str
    spec_hash: str
    """Content hash of the spec version the run was governed by."""
    spec_version: str = ""
    """The owner's version label (``metadata.version``)."""
    mode: RunMode = RunMode.LIVE
    status: RunStatus = RunStatus.RUNNING
    routing_key: str | None = None
    input: Any = None
    output: Any = None
    reason: str | None = None
    """Why it ended as it did, in plain words."""
    error_code: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    heartbeat_at: datetime | None = None
    steps: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float | None = None
    """Seconds from start to terminal state."""
    host: str = ""
    pid: int = 0
    mode_override: bool = False
    """The mode was forced past the rollout (``dangerously_override_rollout``): audited,
    and the readiness review fails while such runs are recent."""


class Handoff(_Record):
    """What a human needs to take over a run: the handoff packet."""

    id: str
    run_id: str
    agent: str
    queue: str
    trigger: str
    """Why: ``low_confidence``, ``budget_exceeded``, ``policy_denied``, ``tool_failed``, ``manual``…"""
    reason: str
    input: Any = None
    steps: list[str] = Field(default_factory=list[str])
    """Each step so far, one plain line each."""
    last_error: str | None = None
    created_at: datetime
    status: str = "open"
    """``open`` (waiting in ``queue``), ``claimed`` (a person took it) or ``resolved``;
    a reassigned packet is ``open`` again in its new queue (``HandoffStatus``)."""
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: Any = None
    """What the person did instead of the agent (an action, as ``record_outcome`` takes)."""
    note: str | None = None
    """The person's note on resolving, or the reason of the last reassignment."""


class HandoffStatus(StrEnum):
    """Where a handoff packet is: ``open -> claimed -> resolved`` (reassigning reopens)."""

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class ApprovalStatus(StrEnum):
    """State of an approval request."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ApprovalRequest(_Record):
    """A call waiting for a human, bound to the hash of its exact arguments."""

    id: str
    run_id: str
    agent: str
    seq: int
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    args_hash: str
    rule: str
    reason: str
    status: ApprovalStatus = ApprovalStatus.PENDING
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None


class SpecVersion(_Record):
    """A stored version of an agent spec, keyed by content hash."""

    agent: str
    content_hash: str
    version: str
    spec: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, spec: AgentSpec, at: datetime, content_hash: str | None = None) -> SpecVersion:
        """The stored form of ``spec`` (``content_hash``: its hash, computed when omitted)."""
        return cls(
            agent=spec.name,
            content_hash=content_hash or spec.content_hash(),
            version=spec.metadata.version,
            spec=spec.model_dump(mode="json", by_alias=True),
            created_at=at,
        )


class IdempotencyRecord(_Record):
    """The result of a write applied under an idempotency key."""

    key: str
    run_id: str
    tool: str
    args_hash: str
    result: Any = None
    created_at: datetime


class RunDetail(_Record):
    """A run with everything that happened in it, in step order."""

    run: RunRecord
    tool_calls: list[ToolCallRecord] = Field(default_factory=list[ToolCallRecord])
    model_calls: list[ModelCallRecord] = Field(default_factory=list[ModelCallRecord])
    approvals: list[ApprovalRequest] = Field(default_factory=list[ApprovalRequest])
    handoffs: list[Handoff] = Field(default_factory=list[Handoff])


class RunFilter(_Record):
    """Filter for listing runs."""

    agent: str | None = None
    status: RunStatus | None = None
    mode: RunMode | None = None
    since: datetime | None = None
    """Started at or after."""
    until: datetime | None = None
    """Started before."""
    denied_only: bool = False
    """Only runs with at least one denied tool call."""
    spec_hash: str | None = None
    """Only runs governed by this spec version."""
    mode_override: bool | None = None
    """Only runs whose mode was (True) or was not (False) forced past the rollout."""
    after: tuple[datetime, str] | None = None
    """Keyset cursor: runs after this ``(started_at, id)`` in list order (newest first)."""
    limit: int = Field(default=50, ge=1, le=10_000)
