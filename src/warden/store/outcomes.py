"""Shadow outcomes in SQL: what a person actually did for a run, and agreement rates.

An outcome compares the person's action with what the agent proposed (shadow) or did
(live) in one run; a later outcome for the same run replaces it. The run is found by its
routing key (``latest_run_for_key``). Agreement is counted per spec version from the
stored outcomes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from warden.core.agreement import AgentAction, AgreementRate, Outcome
from warden.core.runs import RunMode, RunRecord
from warden.store import tables as t
from warden.store.base import SqlBase

__all__ = ["OutcomesSql"]


class OutcomesSql(SqlBase):
    """Outcome and agreement methods of ``SqlStore``."""

    def latest_run_for_key(
        self, agent: str, routing_key: str, mode: RunMode | None = None
    ) -> RunRecord | None:
        """The newest run of ``agent`` with ``routing_key`` (and ``mode``), or None."""
        q = (
            sa.select(t.runs)
            .where(t.runs.c.agent == agent, t.runs.c.routing_key == routing_key)
            .order_by(t.runs.c.started_at.desc(), t.runs.c.id.desc())
            .limit(1)
        )
        if mode is not None:
            q = q.where(t.runs.c.mode == mode.value)
        with self._tx() as conn:
            row = conn.execute(q).mappings().first()
        return RunRecord.model_validate(dict(row)) if row else None

    def save_outcome(self, outcome: Outcome) -> Outcome:
        """Store a person's action for a run (a later one for the same run replaces it)."""
        row = outcome.model_dump(mode="json") | {
            "run_started_at": outcome.run_started_at,
            "recorded_at": outcome.recorded_at,
        }
        with self._tx() as conn:
            self._upsert(conn, t.outcomes, [row], ["run_id"])
        return outcome

    def get_outcome(self, run_id: str) -> Outcome | None:
        """The recorded outcome of a run, or None."""
        with self._tx() as conn:
            row = (
                conn.execute(sa.select(t.outcomes).where(t.outcomes.c.run_id == run_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        data = dict(row)
        for key in ("human", "proposed"):
            data[key] = [AgentAction.model_validate(a) for a in data[key]]
        return Outcome.model_validate(data)

    def agreement(
        self,
        agent: str,
        *,
        mode: RunMode | None = RunMode.SHADOW,
        spec_hash: str | None = None,
        since: datetime | None = None,
    ) -> list[AgreementRate]:
        """Agreement per spec version of ``agent``'s runs (of ``mode``, started since ``since``)."""
        o = t.outcomes
        q = (
            sa.select(
                o.c.spec_hash,
                sa.func.max(o.c.spec_version),
                sa.func.count(),
                sa.func.sum(sa.case((o.c.agreed, 1), else_=0)),
            )
            .where(o.c.agent == agent)
            .group_by(o.c.spec_hash)
            .order_by(sa.func.min(o.c.run_started_at))
        )
        if mode is not None:
            q = q.where(o.c.mode == mode.value)
        if spec_hash is not None:
            q = q.where(o.c.spec_hash == spec_hash)
        if since is not None:
            q = q.where(o.c.run_started_at >= since)
        with self._tx() as conn:
            rows = conn.execute(q).all()
        return [
            AgreementRate.of(str(h), str(v or ""), int(agreed or 0), int(n))
            for h, v, n, agreed in rows
        ]
