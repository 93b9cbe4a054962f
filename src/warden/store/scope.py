"""Scope changes in SQL: spec applies, their approval, the version in force per agent.

Recording an apply supersedes the agent's pending (unapproved) change, if any; approving
is a compare-and-set from ``pending``. Both append their audit entry in the same locked
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.scope import ChangeStatus, SpecChange
from warden.errors import NotFoundError, RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["ScopeSql"]

_C = t.spec_changes


def _next_applied_seq(conn: Connection) -> int:
    """Order in which changes came into force (the caller holds the write lock)."""
    return (
        int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(_C.c.applied_seq), 0))).scalar_one()
        )
        + 1
    )


def _row(c: SpecChange) -> dict[str, Any]:
    return c.model_dump(mode="json") | {"created_at": c.created_at, "approved_at": c.approved_at}


def _change(row: Any) -> SpecChange:
    data = dict(row)
    data.pop("applied_seq", None)
    return SpecChange.model_validate(data)


def _current_in(conn: Connection, agent: str) -> SpecChange | None:
    row = (
        conn.execute(
            sa.select(_C)
            .where(_C.c.agent == agent, _C.c.status == ChangeStatus.APPLIED.value)
            .order_by(_C.c.applied_seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _change(row) if row else None


def _view(c: SpecChange | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return c.model_dump(
        mode="json",
        include={
            "to_hash",
            "version",
            "kind",
            "status",
            "applied_principal",
            "approved_principal",
        },
    )


class ScopeSql(SqlBase):
    """Spec-change (scope change) methods of ``SqlStore``."""

    def record_spec_change(self, change: SpecChange) -> SpecChange:
        """Store an apply; a pending change of the same agent is superseded (audited)."""
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            current = _current_in(conn, change.agent)
            conn.execute(
                sa.update(_C)
                .where(_C.c.agent == change.agent, _C.c.status == ChangeStatus.PENDING.value)
                .values(status=ChangeStatus.SUPERSEDED.value)
            )
            seq = _next_applied_seq(conn) if change.status is ChangeStatus.APPLIED else None
            conn.execute(sa.insert(_C).values(**_row(change), applied_seq=seq))
            audit.append(
                AuditDraft(
                    at=change.created_at,
                    actor=change.applied_by,
                    action="spec.apply",
                    agent=change.agent,
                    subject=change.to_hash[:12],
                    reason=change.reason
                    or f"{change.kind.value}: {len(change.items)} difference(s)",
                    before=_view(current),
                    after=(_view(change) or {}) | {"items": [i.path for i in change.items]},
                )
            )
        return change

    def approve_spec_change(
        self,
        change_id: str,
        *,
        actor: str,
        at: datetime,
        reason: str = "",
        principal: str | None = None,
    ) -> SpecChange:
        """Approve a pending change: it becomes the version in force (audited).

        Raises:
            NotFoundError: No such change.
            RunStateError: It is not pending (approved, or superseded by a later apply).
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            row = conn.execute(sa.select(_C).where(_C.c.id == change_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no spec change {change_id!r}")
            before = _change(row)
            if before.status is not ChangeStatus.PENDING:
                raise RunStateError(
                    f"spec change {change_id} is {before.status.value}, not pending"
                )
            current = _current_in(conn, before.agent)
            conn.execute(
                sa.update(_C)
                .where(_C.c.id == change_id)
                .values(
                    status=ChangeStatus.APPLIED.value,
                    approved_by=actor,
                    approved_at=at,
                    approved_principal=principal or actor,
                    applied_seq=_next_applied_seq(conn),
                )
            )
            after = before.model_copy(
                update={
                    "status": ChangeStatus.APPLIED,
                    "approved_by": actor,
                    "approved_at": at,
                    "approved_principal": principal or actor,
                }
            )
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action="spec.approve",
                    agent=before.agent,
                    subject=before.to_hash[:12],
                    reason=reason or f"approved {before.kind.value} applied by {before.applied_by}",
                    before=_view(current),
                    after=_view(after),
                )
            )
        return after

    def current_spec_change(self, agent: str) -> SpecChange | None:
        """The applied change in force for ``agent`` (the newest applied), or None."""
        with self._tx() as conn:
            return _current_in(conn, agent)

    def list_spec_changes(self, agent: str | None = None) -> list[SpecChange]:
        """Spec changes, oldest first."""
        q = sa.select(_C).order_by(_C.c.created_at, _C.c.id)
        if agent is not None:
            q = q.where(_C.c.agent == agent)
        with self._tx() as conn:
            return [_change(r) for r in conn.execute(q).mappings().all()]

    def find_spec_changes(self, ref: str) -> list[SpecChange]:
        """Changes whose id is ``ref`` or whose new content hash starts with ``ref``."""
        q = sa.select(_C).where(
            sa.or_(_C.c.id == ref, _C.c.to_hash.startswith(ref, autoescape=True))
        )
        with self._tx() as conn:
            return [_change(r) for r in conn.execute(q.order_by(_C.c.created_at)).mappings().all()]
