"""The store port: what the runtime, the CLI and the server need from persistence.

The core and the runtime only see this Protocol. SQL lives in ``warden.store``.
Every method may raise ``StoreUnavailable`` when the database cannot be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from warden.core.events import Event
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    Handoff,
    IdempotencyRecord,
    KillSwitchState,
    RunDetail,
    RunFilter,
    RunRecord,
    SpecVersion,
)

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """Durable record of runs and the shared state processes coordinate through."""

    # -- records (batched) ---------------------------------------------------------------
    def apply(self, events: Sequence[Event]) -> None:
        """Apply a batch of events in one transaction. Idempotent per event."""
        ...

    # -- spec versions ---------------------------------------------------------------------
    def save_spec_version(self, version: SpecVersion) -> SpecVersion:
        """Store a spec version (no-op if that content hash is stored); return the stored one."""
        ...

    def get_spec_version(self, agent: str, content_hash: str) -> SpecVersion | None:
        """The spec version of ``agent`` with ``content_hash``, or None."""
        ...

    # -- kill switch -----------------------------------------------------------------------
    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """The kill switch of ``agent`` (disengaged when never set)."""
        ...

    def set_kill_switch(
        self, agent: str, *, engaged: bool, reason: str, actor: str, at: datetime
    ) -> KillSwitchState:
        """Engage or release the kill switch. Idempotent: setting the current state keeps it."""
        ...

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id: str) -> RunDetail | None:
        """A run with its tool calls, model calls, approvals and handoffs, or None."""
        ...

    def list_runs(self, where: RunFilter) -> list[RunRecord]:
        """Runs matching ``where``, newest first."""
        ...

    def daily_usage(self, agent: str, since: datetime) -> tuple[int, float]:
        """``(runs started, model cost USD)`` of ``agent`` since ``since``."""
        ...

    def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
        """End as ``interrupted`` every running run whose heartbeat is older than
        ``stale_before``; return their ids."""
        ...

    # -- approvals -------------------------------------------------------------------------
    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        """Store a new pending approval request (synchronous write)."""
        ...

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """One approval request, or None."""
        ...

    def list_approvals(self, status: ApprovalStatus | None = None) -> list[ApprovalRequest]:
        """Approval requests, oldest first, optionally by status."""
        ...

    def decide_approval(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        actor: str,
        reason: str,
        at: datetime,
    ) -> ApprovalRequest:
        """Decide a pending request. Raises ``NotFoundError``; ``RunStateError`` if decided."""
        ...

    # -- handoffs and idempotency ----------------------------------------------------------
    def list_handoffs(self, queue: str | None = None) -> list[Handoff]:
        """Handoff packets, newest first, optionally for one queue."""
        ...

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The recorded result of a write applied under ``key``, or None."""
        ...

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
