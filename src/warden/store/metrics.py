"""Metrics' inputs in SQL: ``RunTotals`` over a window, read from the rollups
(``warden.store.rollups``), and ``run_samples`` (one row per run, for tools that need them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from warden.core.metrics import RunSample, RunTotals
from warden.core.runs import RunMode, ToolCallStatus
from warden.store import rollups
from warden.store import tables as t
from warden.store.base import SqlBase

__all__ = ["MetricsSql"]


class MetricsSql(SqlBase):
    """The metrics methods of ``SqlStore``."""

    def run_totals(
        self,
        agent: str,
        *,
        since: datetime,
        until: datetime | None = None,
        spec_hash: str | None = None,
        mode: RunMode | None = None,
    ) -> RunTotals:
        """Totals of ``agent``'s runs that ended in ``[since, until)`` (``until`` None: up
        to now), from the rollups: its cost grows with the window's buckets, not its runs.

        Args:
            agent: The agent.
            since: Start of the window (inclusive).
            until: End of the window (exclusive); None: up to now.
            spec_hash: Only runs of this spec version.
            mode: Only runs in this mode.
        """
        with self._tx() as conn:
            return rollups.read_totals(conn, agent, since, until, spec_hash=spec_hash, mode=mode)

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
        """Totals of ``count`` consecutive windows of ``step`` from ``since`` (daily
        charts), oldest first.

        Raises:
            ValueError: ``step`` is not positive or ``count`` is negative.
        """
        with self._tx() as conn:
            return rollups.read_totals_series(
                conn, agent, since, step, count, spec_hash=spec_hash, mode=mode
            )

    def rebuild_rollups(self, agent: str | None = None) -> int:
        """Recompute the rollups from the raw runs (all agents, or one), holding the
        store's write lock meanwhile. Returns the runs counted."""
        with self._locked_tx() as conn:
            counted = rollups.rebuild(conn, agent)
        self._analyze(t.run_rollups, t.run_latency_rollups)  # fresh statistics (PostgreSQL)
        return counted

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
