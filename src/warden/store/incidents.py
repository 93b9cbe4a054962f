"""Incidents, page deliveries and drills in SQL, and the run samples metrics read.

Opening an incident is deduplicated on ``dedup_key`` among unresolved incidents, inside a
locked transaction (two processes evaluating the same criterion at once open one
incident). Opening, acknowledging and escalating an incident, and recording a drill, each
append an audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.incidents import Drill, Incident, IncidentStatus, PageDelivery
from warden.core.metrics import RunSample
from warden.core.runs import RunMode, ToolCallStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

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


def _brief(i: Incident) -> dict[str, Any]:
    return i.model_dump(
        mode="json", include={"status", "criterion", "value", "samples", "applied", "acked_by"}
    )


class IncidentsSql(SqlBase):
    """Incident, page, drill and run-sample methods of ``SqlStore``."""

    # -- incidents ------------------------------------------------------------------------

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
    ) -> list[Incident]:
        """Incidents, newest first."""
        q = sa.select(t.incidents).order_by(t.incidents.c.opened_at.desc(), t.incidents.c.id)
        if agent is not None:
            q = q.where(t.incidents.c.agent == agent)
        if status is not None:
            q = q.where(t.incidents.c.status == status.value)
        if since is not None:
            q = q.where(t.incidents.c.opened_at >= since)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [Incident.model_validate(dict(r)) for r in rows]

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

    # -- pages ----------------------------------------------------------------------------

    def record_page(self, page: PageDelivery) -> PageDelivery:
        """Store one delivery attempt."""
        with self._tx() as conn:
            conn.execute(
                sa.insert(t.pages).values(**page.model_dump(mode="json") | {"at": page.at})
            )
        return page

    def list_pages(
        self, agent: str | None = None, incident_id: str | None = None
    ) -> list[PageDelivery]:
        """Page deliveries, oldest first."""
        q = sa.select(t.pages).order_by(t.pages.c.at, t.pages.c.id)
        if agent is not None:
            q = q.where(t.pages.c.agent == agent)
        if incident_id is not None:
            q = q.where(t.pages.c.incident_id == incident_id)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [PageDelivery.model_validate(dict(r)) for r in rows]

    # -- drills ---------------------------------------------------------------------------

    def record_drill(self, drill: Drill) -> Drill:
        """Store a drill and its audit entry."""
        row = drill.model_dump(mode="json") | {
            "started_at": drill.started_at,
            "ended_at": drill.ended_at,
        }
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            conn.execute(sa.insert(t.drills).values(**row))
            audit.append(
                AuditDraft(
                    at=drill.ended_at,
                    actor=drill.actor,
                    action="drill.kill_switch",
                    agent=drill.agent,
                    subject=drill.id,
                    reason=drill.detail,
                    after=drill.model_dump(
                        mode="json", include={"passed", "propagation_s", "runs", "rerouted"}
                    ),
                )
            )
        return drill

    def list_drills(self, agent: str) -> list[Drill]:
        """Drills of ``agent``, newest first."""
        q = (
            sa.select(t.drills)
            .where(t.drills.c.agent == agent)
            .order_by(t.drills.c.ended_at.desc())
        )
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [Drill.model_validate(dict(r)) for r in rows]

    # -- run samples ----------------------------------------------------------------------

    def run_samples(
        self,
        agent: str,
        *,
        since: datetime | None = None,
        spec_hash: str | None = None,
        mode: RunMode | None = None,
    ) -> list[RunSample]:
        """What metrics need from each run of ``agent`` that ended since ``since``.

        Tool calls are aggregated only for the runs in the window (the kill criteria run
        this after every run: its cost must not grow with the whole history).
        """
        r = t.runs
        where = [r.c.agent == agent, r.c.ended_at.is_not(None)]
        if since is not None:
            where.append(r.c.ended_at >= since)
        if spec_hash is not None:
            where.append(r.c.spec_hash == spec_hash)
        if mode is not None:
            where.append(r.c.mode == mode.value)
        tc = t.tool_calls
        calls = (
            sa.select(
                tc.c.run_id,
                sa.func.count().label("n"),
                sa.func.sum(
                    sa.case((tc.c.status == ToolCallStatus.DENIED.value, 1), else_=0)
                ).label("denied"),
                sa.func.sum(
                    sa.case((tc.c.status == ToolCallStatus.FAILED.value, 1), else_=0)
                ).label("failed"),
            )
            .where(tc.c.run_id.in_(sa.select(r.c.id).where(*where)))
            .group_by(tc.c.run_id)
            .subquery()
        )
        q = (
            sa.select(
                r.c.id,
                r.c.status,
                r.c.mode,
                r.c.latency_s,
                r.c.cost_usd,
                r.c.ended_at,
                sa.func.coalesce(calls.c.n, 0),
                sa.func.coalesce(calls.c.denied, 0),
                sa.func.coalesce(calls.c.failed, 0),
            )
            .select_from(r.outerjoin(calls, calls.c.run_id == r.c.id))
            .where(*where)
        )
        with self._tx() as conn:
            rows = conn.execute(q).all()
        return [
            RunSample(
                run_id=row[0],
                status=row[1],
                mode=row[2],
                latency_s=row[3],
                cost_usd=row[4] or 0.0,
                ended_at=row[5],
                tool_calls=int(row[6]),
                denied_calls=int(row[7]),
                failed_calls=int(row[8]),
            )
            for row in rows
        ]
