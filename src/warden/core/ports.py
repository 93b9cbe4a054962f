"""The store ports: what enforcement and control need from persistence.

- ``RuntimeStore``: exactly what an agent's process uses on its hot path (record runs,
  read the kill switch and the rollout, enroll its spec version, ask for approvals, look
  up idempotency keys). ``Governor`` takes this port; ``RemoteStore`` implements it over
  HTTP, and the server's ``/api/rpc`` surface is derived from it, so what an agent's
  process may call remotely is this port and nothing else.
- ``ControlStore``: what operators, the CLI, the server and the monitor use besides
  (stage changes, incidents, pages, drills, audit, scope changes, metrics).
- ``Store``: both; ``warden.store.SqlStore`` implements it.

Every method may raise ``StoreUnavailable`` when the database cannot be reached. SQL lives
in ``warden.store``; the core and the runtime only see these Protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from warden.core.agreement import AgreementRate, Outcome
from warden.core.audit import AuditDraft, AuditEntry, AuditHead, ChainCheck
from warden.core.evals import EvalResult
from warden.core.events import Event
from warden.core.incidents import Drill, Incident, IncidentStatus, PageDelivery
from warden.core.killswitch import KillSwitchState, ReleaseRequest
from warden.core.metrics import RunSample, RunTotals
from warden.core.rollout import RolloutState, RolloutTransition
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    Handoff,
    IdempotencyRecord,
    RunDetail,
    RunFilter,
    RunMode,
    RunRecord,
    SpecVersion,
)
from warden.core.scope import SpecChange

__all__ = ["ControlStore", "RuntimeStore", "Store"]


@runtime_checkable
class RuntimeStore(Protocol):
    """What an agent's process needs from the store on every run (the runtime port)."""

    def apply(self, events: Sequence[Event]) -> None:
        """Apply a batch of events in one transaction. Idempotent per event."""
        ...

    def save_spec_version(self, version: SpecVersion) -> SpecVersion:
        """Store a spec version (no-op if that content hash is stored); return the stored one."""
        ...

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """The kill switch of ``agent`` (disengaged when never set)."""
        ...

    def watch_kill_switches(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """Push kill-switch changes from every process (``callback(agent)``); return a stop
        function, or None when the database cannot push (poll with a short TTL)."""
        ...

    def get_rollout(self, agent: str) -> RolloutState | None:
        """The rollout of ``agent``, or None when it has none."""
        ...

    def enroll_version(
        self, version: SpecVersion, *, has_plan: bool, at: datetime
    ) -> RolloutState | None:
        """Enroll a spec version in its agent's rollout as a process opens with it: a first
        version with a plan starts in ``shadow``; a new version restarts the gate of the
        current stage (``core.rollout.enrollment``). Never changes the stage. Returns the
        state, or None when the agent has no plan and no rollout."""
        ...

    def current_spec_change(self, agent: str) -> SpecChange | None:
        """The applied change in force for ``agent``, or None."""
        ...

    def find_spec_changes(self, ref: str) -> list[SpecChange]:
        """Changes whose id is ``ref`` or whose new content hash starts with ``ref``."""
        ...

    def daily_usage(self, agent: str, since: datetime) -> tuple[int, float]:
        """``(runs started, model cost USD)`` of ``agent`` since ``since``."""
        ...

    def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
        """End as ``interrupted`` every running run whose heartbeat is older than
        ``stale_before``; return their ids."""
        ...

    def untrusted_reads(
        self, agent: str, routing_key: str, tools: Sequence[str], since: datetime
    ) -> list[tuple[str, str]]:
        """``(run id, tool)`` of the calls of ``tools`` that ran (succeeded or failed) in
        runs of ``agent`` with ``routing_key`` started since ``since``; newest first, at
        most 10. The taint a new run of the same key starts with."""
        ...

    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        """Store a new pending approval request (synchronous write)."""
        ...

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """One approval request, or None."""
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

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The recorded result of a write applied under ``key``, or None."""
        ...

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class ControlStore(Protocol):
    """What operators and the control plane need besides the runtime port."""

    def list_spec_versions(self, agent: str | None = None) -> list[SpecVersion]:
        """Stored spec versions, newest first (of one agent, or of all)."""
        ...

    def get_spec_version(self, agent: str, content_hash: str) -> SpecVersion | None:
        """The spec version of ``agent`` with ``content_hash``, or None."""
        ...

    def set_kill_switch(
        self, agent: str, *, engaged: bool, reason: str, actor: str, at: datetime
    ) -> KillSwitchState:
        """Engage or release the kill switch. Idempotent: setting the current state keeps it.
        A real change is written to the audit log in the same transaction."""
        ...

    def request_release(
        self, agent: str, *, actor: str, reason: str, at: datetime, principal: str | None = None
    ) -> ReleaseRequest:
        """Ask to turn ``agent`` back on (audited); ``principal`` (default ``actor``) is who
        asks. Raises ``RunStateError`` if not engaged."""
        ...

    def get_release_request(self, agent: str) -> ReleaseRequest | None:
        """The pending release request of ``agent``, or None."""
        ...

    def approve_release(
        self, agent: str, *, actor: str, reason: str, at: datetime, principal: str | None = None
    ) -> KillSwitchState:
        """Approve the pending release and release; ``principal`` (default ``actor``) must
        differ from the asker's. ``RunStateError`` if not."""
        ...

    def get_run(self, run_id: str) -> RunDetail | None:
        """A run with its tool calls, model calls, approvals and handoffs, or None."""
        ...

    def list_runs(self, where: RunFilter) -> list[RunRecord]:
        """Runs matching ``where``, newest first."""
        ...

    def find_run_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of the runs that start with ``prefix`` (case-sensitive), in id order, at most
        ``limit`` (one indexed query)."""
        ...

    def agent_seen(self, agent: str) -> bool:
        """Whether the store has a trace of ``agent``: a spec version, a spec change, a run,
        a rollout or a kill-switch row (one query)."""
        ...

    def seen_agents(self) -> list[str]:
        """Every agent ``agent_seen`` knows, sorted."""
        ...

    def list_approvals(
        self,
        status: ApprovalStatus | None = None,
        *,
        agent: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[ApprovalRequest]:
        """Approval requests, oldest first, optionally by status and agent; ``after`` is
        the ``(created_at, id)`` of the previous page's last one, ``limit`` at most how
        many (None: all)."""
        ...

    def count_approvals(
        self, status: ApprovalStatus | None = None, *, agents: Collection[str] | None = None
    ) -> int:
        """How many approval requests match, counted by the database."""
        ...

    def list_handoffs(
        self,
        queue: str | None = None,
        *,
        status: str | None = None,
        agent: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[Handoff]:
        """Handoff packets, newest first, optionally of one queue, status and agent;
        ``after`` is the ``(created_at, id)`` of the previous page's last one, ``limit``
        at most how many (None: all)."""
        ...

    def count_handoffs(
        self,
        queue: str | None = None,
        *,
        status: str | None = None,
        agents: Collection[str] | None = None,
    ) -> int:
        """How many handoff packets match, counted by the database."""
        ...

    def get_handoff(self, handoff_id: str) -> Handoff | None:
        """One handoff packet, or None."""
        ...

    def claim_handoff(self, handoff_id: str, *, actor: str, at: datetime) -> Handoff:
        """Take an open packet (``open -> claimed``, audited); a no-op for its holder.

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved, or claimed by someone else.
        """
        ...

    def resolve_handoff(
        self,
        handoff_id: str,
        *,
        actor: str,
        at: datetime,
        resolution: Any = None,
        note: str = "",
    ) -> Handoff:
        """Close a packet with what the person did (``-> resolved``, audited).

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved already, or claimed by someone else.
        """
        ...

    def reassign_handoff(
        self, handoff_id: str, *, queue: str, actor: str, at: datetime, reason: str
    ) -> Handoff:
        """Put a packet back ``open`` in another queue, unclaimed (audited).

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved already.
        """
        ...

    def save_rollout(
        self,
        state: RolloutState,
        *,
        expected_version: int | None,
        transition: RolloutTransition,
    ) -> RolloutState:
        """Compare-and-set: write ``state`` if the stored version is ``expected_version``
        (None: create), with ``transition`` and its audit entry. Raises
        ``TransitionConflict`` otherwise."""
        ...

    def list_rollouts(self) -> list[RolloutState]:
        """Every agent's rollout."""
        ...

    def list_rollout_transitions(self, agent: str) -> list[RolloutTransition]:
        """Every change of ``agent``'s rollout, oldest first."""
        ...

    def latest_run_for_key(
        self, agent: str, routing_key: str, mode: RunMode | None = None
    ) -> RunRecord | None:
        """The newest run of ``agent`` with ``routing_key`` (and ``mode``), or None."""
        ...

    def save_outcome(self, outcome: Outcome) -> Outcome:
        """Store a person's action for a run (replacing an earlier one for that run)."""
        ...

    def get_outcome(self, run_id: str) -> Outcome | None:
        """The outcome recorded for a run, or None."""
        ...

    def agreement(
        self,
        agent: str,
        *,
        mode: RunMode | None = RunMode.SHADOW,
        spec_hash: str | None = None,
        since: datetime | None = None,
    ) -> list[AgreementRate]:
        """Agreement per spec version, of runs of ``mode`` started since ``since``."""
        ...

    def open_incident(self, incident: Incident) -> tuple[Incident, bool]:
        """Open ``incident`` unless one with its ``dedup_key`` is unresolved; return the
        incident and whether it is new (audited)."""
        ...

    def get_incident(self, incident_id: str) -> Incident | None:
        """One incident, or None."""
        ...

    def list_incidents(
        self,
        agent: str | None = None,
        *,
        status: IncidentStatus | None = None,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Incidents, newest first; ``after`` is the ``(opened_at, id)`` of the previous
        page's last one, ``limit`` at most how many (None: all)."""
        ...

    def count_incidents(
        self, *, status: IncidentStatus | None = None, agents: Collection[str] | None = None
    ) -> int:
        """How many incidents match, counted by the database."""
        ...

    def update_incident(
        self,
        incident_id: str,
        *,
        actor: str,
        at: datetime,
        status: IncidentStatus | None = None,
        escalated: bool = False,
        reason: str = "",
    ) -> Incident:
        """Acknowledge or resolve an incident, or mark its backup escalation (audited)."""
        ...

    def record_page(self, page: PageDelivery) -> PageDelivery:
        """Store one page delivery attempt."""
        ...

    def list_pages(
        self,
        agent: str | None = None,
        incident_id: str | None = None,
        *,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[PageDelivery]:
        """Page deliveries, oldest first; ``after`` is the ``(at, id)`` of the previous
        page's last one, ``limit`` at most how many (None: all)."""
        ...

    def record_drill(self, drill: Drill) -> Drill:
        """Store a kill-switch drill (audited)."""
        ...

    def list_drills(self, agent: str) -> list[Drill]:
        """Drills of ``agent``, newest first."""
        ...

    def record_eval_result(self, result: EvalResult) -> EvalResult:
        """Store an eval result (audited)."""
        ...

    def latest_eval_result(self, agent: str, spec_hash: str | None = None) -> EvalResult | None:
        """The newest eval result of ``agent`` (of one spec version when ``spec_hash``)."""
        ...

    def run_samples(
        self,
        agent: str,
        *,
        since: datetime | None = None,
        spec_hash: str | None = None,
        mode: RunMode | None = None,
    ) -> list[RunSample]:
        """Per-run numbers for metrics, of runs of ``agent`` that ended since ``since``."""
        ...

    def run_totals(
        self,
        agent: str,
        *,
        since: datetime,
        until: datetime | None = None,
        spec_hash: str | None = None,
        mode: RunMode | None = None,
    ) -> RunTotals:
        """Totals of ``agent``'s runs that ended in ``[since, until)``, from the rollups."""
        ...

    def run_totals_series(
        self,
        agent: str,
        *,
        since: datetime,
        step: timedelta,
        count: int,
        spec_hash: str | None = None,
        mode: RunMode | None = None,
    ) -> list[RunTotals]:
        """Totals of ``count`` consecutive windows of ``step`` from ``since``."""
        ...

    def rebuild_rollups(self, agent: str | None = None) -> int:
        """Recompute the rollups from the raw runs; the runs counted."""
        ...

    def prune_runs(
        self, agent: str, ended_before: datetime, *, limit: int, actor: str, at: datetime
    ) -> int:
        """Remove up to ``limit`` ended runs of ``agent`` older than ``ended_before`` with
        their records (audited); the runs removed."""
        ...

    def record_spec_change(self, change: SpecChange) -> SpecChange:
        """Store an apply (superseding the agent's pending change), audited."""
        ...

    def approve_spec_change(
        self,
        change_id: str,
        *,
        actor: str,
        at: datetime,
        reason: str = "",
        principal: str | None = None,
    ) -> SpecChange:
        """Compare-and-set a pending change to applied, audited. Raises ``NotFoundError``
        or ``RunStateError``."""
        ...

    def list_spec_changes(self, agent: str | None = None) -> list[SpecChange]:
        """Spec changes, oldest first."""
        ...

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append one entry (acts whose state lives outside the store; the store's own
        state changes append theirs in the same transaction)."""
        ...

    def list_audit(
        self,
        *,
        agent: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        actions: Collection[str] | None = None,
        newest: bool = False,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries in order, optionally for one agent and some actions, after entry
        ``after_seq`` and before ``before_seq`` (with ``newest``: the newest ``limit``,
        still in order)."""
        ...

    def audit_head(self) -> AuditHead:
        """The newest entry's number and hash."""
        ...

    def verify_audit(self) -> ChainCheck:
        """Check the whole chain; name the first entry altered or removed."""
        ...


@runtime_checkable
class Store(RuntimeStore, ControlStore, Protocol):
    """The whole store: the runtime port and the control port (``SqlStore``)."""
