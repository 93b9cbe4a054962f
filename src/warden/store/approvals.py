"""Approval requests in SQL: created pending, decided once, each decision audited.

A decision is a compare-and-set from ``pending`` inside a locked transaction, so two
people deciding at once get one decision and one ``RunStateError``. Pending requests of a
run that stopped sending heartbeats are cancelled by ``RunsSql.mark_interrupted``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.runs import ApprovalRequest, ApprovalStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase
from warden.store.keyset import after_row

__all__ = ["ApprovalsSql"]


class ApprovalsSql(SqlBase):
    """Approval-request methods of ``SqlStore``."""

    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        """Insert a pending approval request; when its id is stored already (a run resumed
        after a restart asks again for the same call), return the stored one, decision
        included."""
        row = request.model_dump(mode="json") | {
            k: getattr(request, k) for k in ("created_at", "expires_at", "decided_at")
        }
        with self._tx() as conn:
            stored = self._approval_in(conn, request.id)
            if stored is not None:
                return stored
            conn.execute(self._insert(t.approvals).values(**row).on_conflict_do_nothing())
            return self._approval_in(conn, request.id) or request

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """One approval request, or None."""
        with self._tx() as conn:
            return self._approval_in(conn, approval_id)

    def list_approvals(
        self,
        status: ApprovalStatus | None = None,
        *,
        agent: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[ApprovalRequest]:
        """Approval requests, oldest first (then by id).

        Args:
            status: Only requests in this status.
            agent: Only requests of this agent.
            after: Keyset cursor ``(created_at, id)`` of the last request of the previous
                page: only requests strictly after it in this order.
            limit: At most this many (None: all; every page and endpoint passes one).
        """
        a = t.approvals.c
        q = sa.select(t.approvals).where(*_approval_filter(status, agent))
        if after is not None:
            q = q.where(after_row(a.created_at, [a.id], after, newest_first=False))
        q = q.order_by(a.created_at, a.id)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [ApprovalRequest.model_validate(dict(r)) for r in rows]

    def count_approvals(
        self, status: ApprovalStatus | None = None, *, agents: Collection[str] | None = None
    ) -> int:
        """How many approval requests match (``COUNT`` in SQL, on the status index).

        Args:
            status: Only requests in this status (e.g. pending).
            agents: Only requests of these agents (None: of every agent).
        """
        q = sa.select(sa.func.count()).select_from(t.approvals)
        q = q.where(*_approval_filter(status, None))
        if agents is not None:
            q = q.where(t.approvals.c.agent.in_(sorted(agents)))
        with self._tx() as conn:
            return int(conn.execute(q).scalar_one())

    def decide_approval(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        actor: str,
        reason: str,
        at: datetime,
    ) -> ApprovalRequest:
        """Decide a pending request (serialised with every state change: one decision wins).

        A request past its ``expires_at`` can no longer be approved or denied: it is marked
        ``expired`` (audited) and the decision is refused.

        Raises:
            NotFoundError: No such request.
            RunStateError: It is no longer pending, or it expired.
        """
        if status is ApprovalStatus.PENDING:
            raise ValueError("a decision cannot be 'pending'")
        expired = False
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = self._approval_in(conn, approval_id)
            if before is None:
                raise NotFoundError(f"no approval request {approval_id!r}")
            if before.status is not ApprovalStatus.PENDING:
                raise RunStateError(
                    f"approval {approval_id} is already {before.status.value} "
                    f"(by {before.decided_by or 'warden'})"
                )
            if (
                status in (ApprovalStatus.APPROVED, ApprovalStatus.DENIED)
                and at >= before.expires_at
            ):
                expired = True
                status, actor = ApprovalStatus.EXPIRED, "warden"
                reason = f"expired at {before.expires_at:%Y-%m-%d %H:%M:%S} UTC before a decision"
            conn.execute(
                sa.update(t.approvals)
                .where(t.approvals.c.id == approval_id)
                .values(
                    status=status.value, decided_by=actor, decision_reason=reason, decided_at=at
                )
            )
            after = before.model_copy(
                update={
                    "status": status,
                    "decided_by": actor,
                    "decision_reason": reason,
                    "decided_at": at,
                }
            )
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action=f"approval.{status.value}",
                    agent=before.agent,
                    subject=approval_id,
                    reason=reason,
                    before=_approval_audit(before),
                    after=_approval_audit(after),
                )
            )
        if expired:
            raise RunStateError(
                f"approval {approval_id} expired at {before.expires_at:%Y-%m-%d %H:%M:%S} UTC; "
                "it can no longer be decided (the run has timed out or will)"
            )
        return after

    @staticmethod
    def _approval_in(conn: Connection, approval_id: str) -> ApprovalRequest | None:
        row = (
            conn.execute(sa.select(t.approvals).where(t.approvals.c.id == approval_id))
            .mappings()
            .first()
        )
        return ApprovalRequest.model_validate(dict(row)) if row else None


def _approval_filter(
    status: ApprovalStatus | None, agent: str | None
) -> list[sa.ColumnElement[bool]]:
    a = t.approvals.c
    found: list[sa.ColumnElement[bool]] = []
    if status is not None:
        found.append(a.status == status.value)
    if agent is not None:
        found.append(a.agent == agent)
    return found


def _approval_audit(a: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": a.status.value,
        "run_id": a.run_id,
        "tool": a.tool,
        "arguments": a.arguments,
        "decided_by": a.decided_by,
    }
