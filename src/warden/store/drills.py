"""Drills in SQL: each kill-switch drill's result, stored with its audit entry."""

from __future__ import annotations

import sqlalchemy as sa

from warden.core.audit import AuditDraft
from warden.core.incidents import Drill
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["DrillsSql"]


class DrillsSql(SqlBase):
    """Drill methods of ``SqlStore``."""

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
