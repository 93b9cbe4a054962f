"""Retention in SQL: remove raw runs older than a cutoff, in bounded batches.

A prune removes ended runs of one agent that ended before the cutoff, with their tool
calls, model calls, approvals, handoffs and idempotency keys. It never removes a run still
running or one whose handoff is open or claimed (a person has work to do), nor the metrics' rollups,
incidents, outcomes or the audit log. Each batch is one transaction with one
``store.pruned`` audit entry naming the agent, the cutoff and the runs removed, so
``verify_audit`` can tell a pruned run (its seal older than a recorded prune) from a
deleted one.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from warden.core.audit import PRUNED, AuditDraft
from warden.core.runs import HandoffStatus, RunStatus
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["RetentionSql"]

_CHILDREN = (t.tool_calls, t.model_calls, t.approvals, t.handoffs, t.idempotency_keys)


class RetentionSql(SqlBase):
    """The retention method of ``SqlStore``."""

    def prune_runs(
        self, agent: str, ended_before: datetime, *, limit: int, actor: str, at: datetime
    ) -> int:
        """Remove up to ``limit`` of ``agent``'s runs that ended before ``ended_before``,
        oldest first, with their records, in one transaction audited as ``store.pruned``.

        Args:
            agent: The agent.
            ended_before: The cutoff: runs that ended before it go.
            limit: Most runs removed by this call (a batch; call again until 0).
            actor: Who prunes (``warden`` for the monitor).
            at: When.

        Returns:
            The runs removed (0: nothing left to prune).

        Raises:
            ValueError: ``limit`` is below 1.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        r, h = t.runs.c, t.handoffs.c
        unresolved = (HandoffStatus.OPEN.value, HandoffStatus.CLAIMED.value)
        open_handoff = (
            sa.select(h.run_id).where(h.run_id == r.id, h.status.in_(unresolved)).exists()
        )
        pick = (
            sa.select(r.id)
            .where(
                r.agent == agent,
                r.ended_at < ended_before,
                r.status != RunStatus.RUNNING.value,
                ~open_handoff,
            )
            .order_by(r.ended_at)
            .limit(limit)
        )
        with self._locked_tx() as conn:
            writer = AuditWriter(conn, self.dialect)
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return 0
            for table in _CHILDREN:
                conn.execute(sa.delete(table).where(table.c.run_id.in_(ids)))
            conn.execute(sa.delete(t.runs).where(r.id.in_(ids)))
            writer.append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action=PRUNED,
                    agent=agent,
                    subject=agent,
                    reason=f"retention: {len(ids)} run(s) that ended before "
                    f"{ended_before:%Y-%m-%d %H:%M} UTC",
                    after={"ended_before": ended_before.isoformat(), "runs": len(ids)},
                )
            )
            return len(ids)
