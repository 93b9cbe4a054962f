"""Incidents in SQL: opened once per ``dedup_key``, acknowledged, escalated, resolved.

Opening an incident is deduplicated on ``dedup_key`` among unresolved incidents, inside a
locked transaction (two processes evaluating the same criterion at once open one
incident). Opening, acknowledging, escalating and resolving an incident each append an
audit entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.incidents import Incident, IncidentStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase
from warden.store.keyset import after_row

__all__ = ["IncidentsSql"]


def _incident_row(i: Incident) -> dict[str, Any]:
    return i.model_dump(mode="json") | {
        k: getattr(i, k) for k in ("opened_at", "acked_at", "escalated_at")
    }


def _incident_in(conn: Connection, incident_id: str) -> Incident | None:
    row = (
        conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id))
        .mappings()
        .first()
    )
    return Incident.model_validate(dict(row)) if row else None


def _incident_filter(
    agent: str | None, status: IncidentStatus | None
) -> list[sa.ColumnElement[bool]]:
    i = t.incidents.c
    found: list[sa.ColumnElement[bool]] = []
    if agent is not None:
        found.append(i.agent == agent)
    if status is not None:
        found.append(i.status == status.value)
    return found


def _brief(i: Incident) -> dict[str, Any]:
    return i.model_dump(
        mode="json", include={"status", "criterion", "value", "samples", "applied", "acked_by"}
    )


class IncidentsSql(SqlBase):
    """Incident methods of ``SqlStore``."""

    def open_incident(self, incident: Incident) -> tuple[Incident, bool]:
        """Open ``incident`` unless one with its ``dedup_key`` is unresolved.

        Returns:
            ``(incident, opened)``: the new incident and True, or the unresolved one with
            the same key and False.
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            row = (
                conn.execute(
                    sa.select(t.incidents)
                    .where(
                        t.incidents.c.dedup_key == incident.dedup_key,
                        t.incidents.c.status != IncidentStatus.RESOLVED.value,
                    )
                    .order_by(t.incidents.c.opened_at)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None:
                return Incident.model_validate(dict(row)), False
            conn.execute(sa.insert(t.incidents).values(**_incident_row(incident)))
            audit.append(
                AuditDraft(
                    at=incident.opened_at,
                    actor="warden",
                    action="incident.opened",
                    agent=incident.agent,
                    subject=incident.id,
                    reason=incident.summary,
                    before=None,
                    after=_brief(incident),
                )
            )
        return incident, True

    def get_incident(self, incident_id: str) -> Incident | None:
        """One incident, or None."""
        with self._tx() as conn:
            return _incident_in(conn, incident_id)

    def list_incidents(
        self,
        agent: str | None = None,
        *,
        status: IncidentStatus | None = None,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Incidents, newest first (then by id).

        Args:
            agent: Only incidents of this agent.
            status: Only incidents in this status.
            since: Only incidents opened at or after this time.
            after: Keyset cursor ``(opened_at, id)`` of the last incident of the previous
                page: only incidents strictly after it in this order.
            limit: At most this many (None: all; every page and endpoint passes one).
        """
        i = t.incidents.c
        q = sa.select(t.incidents).where(*_incident_filter(agent, status))
        if since is not None:
            q = q.where(i.opened_at >= since)
        if after is not None:
            q = q.where(after_row(i.opened_at, [i.id], after, newest_first=True))
        q = q.order_by(i.opened_at.desc(), i.id)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [Incident.model_validate(dict(r)) for r in rows]

    def count_incidents(
        self, *, status: IncidentStatus | None = None, agents: Collection[str] | None = None
    ) -> int:
        """How many incidents match (``COUNT`` in SQL, on the status index).

        Args:
            status: Only incidents in this status (e.g. open).
            agents: Only incidents of these agents (None: of every agent).
        """
        q = sa.select(sa.func.count()).select_from(t.incidents)
        q = q.where(*_incident_filter(None, status))
        if agents is not None:
            q = q.where(t.incidents.c.agent.in_(sorted(agents)))
        with self._tx() as conn:
            return int(conn.execute(q).scalar_one())

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
        """Acknowledge or resolve an incident, or mark its backup escalation (audited).

        Raises:
            NotFoundError: No such incident.
            RunStateError: It is already in that state (or resolved).
        """
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = _incident_in(conn, incident_id)
            if before is None:
                raise NotFoundError(f"no incident {incident_id!r}")
            if before.status is IncidentStatus.RESOLVED or (
                status is not None and before.status is status
            ):
                raise RunStateError(f"incident {incident_id} is already {before.status.value}")
            values: dict[str, Any] = {}
            if status is IncidentStatus.ACKNOWLEDGED:
                values = {"status": status.value, "acked_at": at, "acked_by": actor}
            elif status is IncidentStatus.RESOLVED:
                values = {"status": status.value}
            if escalated:
                values["escalated_at"] = at
            conn.execute(
                sa.update(t.incidents).where(t.incidents.c.id == incident_id).values(**values)
            )
            after = _incident_in(conn, incident_id)
            assert after is not None
            verb = "escalated" if escalated else (status.value if status else "updated")
            audit.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action=f"incident.{verb}",
                    agent=before.agent,
                    subject=incident_id,
                    reason=reason,
                    before=_brief(before),
                    after=_brief(after),
                )
            )
        return after
