"""Handoff lifecycle in SQL: claim, resolve and reassign a packet, ``open -> claimed ->
resolved`` (reassigning puts it back ``open`` in another queue).

Each is a compare-and-set on the packet's status (and who claimed it) that appends its
audit entry in the same locked transaction. The runtime writes packets with
``ON CONFLICT DO NOTHING`` (``runs``), so a replayed batch never reopens or overwrites a
packet a person changed. Listing packets stays in ``runs`` with the rest of the batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.runs import Handoff, HandoffStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["HandoffsSql"]

_H = t.handoffs


def _get(conn: Connection, handoff_id: str) -> Handoff:
    row = conn.execute(sa.select(_H).where(_H.c.id == handoff_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no handoff {handoff_id!r}")
    return Handoff.model_validate(dict(row))


def _view(h: Handoff) -> dict[str, Any]:
    return h.model_dump(
        mode="json",
        include={"status", "queue", "claimed_by", "resolved_by", "resolution", "note"},
    )


def _set(conn: Connection, before: Handoff, values: dict[str, Any]) -> Handoff:
    """Write ``values`` if the packet is still as read (the compare-and-set)."""
    cas = sa.and_(_H.c.status == before.status, _H.c.queue == before.queue)
    claimed = _H.c.claimed_by
    cas = sa.and_(
        cas, claimed.is_(None) if before.claimed_by is None else claimed == before.claimed_by
    )
    done = conn.execute(sa.update(_H).where(_H.c.id == before.id, cas).values(**values))
    if done.rowcount != 1:
        raise RunStateError(f"handoff {before.id} changed meanwhile; try again")
    return before.model_copy(update=values)


class HandoffsSql(SqlBase):
    """Handoff lifecycle methods of ``SqlStore``."""

    def get_handoff(self, handoff_id: str) -> Handoff | None:
        """One handoff packet, or None."""
        with self._tx() as conn:
            try:
                return _get(conn, handoff_id)
            except NotFoundError:
                return None

    def claim_handoff(self, handoff_id: str, *, actor: str, at: datetime) -> Handoff:
        """Take an open packet (audited); claiming one you hold already is a no-op.

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved, or claimed by someone else.
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = _get(conn, handoff_id)
            if before.status == HandoffStatus.RESOLVED:
                raise RunStateError(f"handoff {handoff_id} is resolved already")
            if before.status == HandoffStatus.CLAIMED:
                if before.claimed_by == actor:
                    return before
                raise RunStateError(f"handoff {handoff_id} is claimed by {before.claimed_by}")
            after = _set(
                conn,
                before,
                {"status": HandoffStatus.CLAIMED.value, "claimed_by": actor, "claimed_at": at},
            )
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action="handoff.claim",
                    agent=before.agent,
                    subject=handoff_id,
                    reason=f"claimed from the {before.queue} queue",
                    before=_view(before),
                    after=_view(after),
                )
            )
        return after

    def resolve_handoff(
        self,
        handoff_id: str,
        *,
        actor: str,
        at: datetime,
        resolution: Any = None,
        note: str = "",
    ) -> Handoff:
        """Close a packet with what the person did (audited); an open one is claimed by
        ``actor`` on the way.

        Args:
            handoff_id: The packet.
            actor: Who resolves it.
            at: When.
            resolution: What the person did (any JSON-able value, e.g. an action).
            note: Their note.

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved already, or claimed by someone else.
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = _get(conn, handoff_id)
            if before.status == HandoffStatus.RESOLVED:
                raise RunStateError(
                    f"handoff {handoff_id} was resolved by {before.resolved_by} already"
                )
            if before.status == HandoffStatus.CLAIMED and before.claimed_by != actor:
                raise RunStateError(f"handoff {handoff_id} is claimed by {before.claimed_by}")
            values: dict[str, Any] = {
                "status": HandoffStatus.RESOLVED.value,
                "resolved_by": actor,
                "resolved_at": at,
                "resolution": resolution,
                "note": note or None,
            }
            if before.claimed_by is None:
                values |= {"claimed_by": actor, "claimed_at": at}
            after = _set(conn, before, values)
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action="handoff.resolve",
                    agent=before.agent,
                    subject=handoff_id,
                    reason=note or "resolved",
                    before=_view(before),
                    after=_view(after),
                )
            )
        return after

    def reassign_handoff(
        self, handoff_id: str, *, queue: str, actor: str, at: datetime, reason: str
    ) -> Handoff:
        """Put a packet back ``open`` in ``queue``, unclaimed (audited: who, when, why).

        Raises:
            NotFoundError: No such packet.
            RunStateError: It is resolved already.
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = _get(conn, handoff_id)
            if before.status == HandoffStatus.RESOLVED:
                raise RunStateError(f"handoff {handoff_id} is resolved already")
            after = _set(
                conn,
                before,
                {
                    "status": HandoffStatus.OPEN.value,
                    "queue": queue,
                    "claimed_by": None,
                    "claimed_at": None,
                    "note": reason or None,
                },
            )
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action="handoff.reassign",
                    agent=before.agent,
                    subject=handoff_id,
                    reason=reason or f"reassigned to {queue}",
                    before=_view(before),
                    after=_view(after),
                )
            )
        return after
