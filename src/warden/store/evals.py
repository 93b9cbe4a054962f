"""Eval results in SQL: recorded with an audit entry, read newest first."""

from __future__ import annotations

import sqlalchemy as sa

from warden.core.audit import AuditDraft
from warden.core.evals import EvalResult
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["EvalsSql"]


class EvalsSql(SqlBase):
    """Eval-result methods of ``SqlStore``."""

    def record_eval_result(self, result: EvalResult) -> EvalResult:
        """Store ``result`` and its audit entry (``eval.recorded``).

        Raises:
            ConfigError: A value the database cannot hold.
            StoreUnavailable: The database cannot be reached.
        """
        row = result.model_dump(mode="json") | {"at": result.at}
        with self._locked_tx() as conn:
            conn.execute(sa.insert(t.eval_results).values(**row))
            AuditWriter(conn, self.dialect).append(
                AuditDraft(
                    at=result.at,
                    actor=result.actor,
                    action="eval.recorded",
                    agent=result.agent,
                    subject=result.id,
                    reason=result.detail,
                    after=result.model_dump(
                        mode="json",
                        include={"set_name", "cases", "pass_rate", "redteam_executed", "passed"},
                    ),
                )
            )
        return result

    def latest_eval_result(self, agent: str, spec_hash: str | None = None) -> EvalResult | None:
        """The newest eval result of ``agent`` (of one spec version when ``spec_hash``)."""
        q = sa.select(t.eval_results).where(t.eval_results.c.agent == agent)
        if spec_hash is not None:
            q = q.where(t.eval_results.c.spec_hash == spec_hash)
        q = q.order_by(t.eval_results.c.at.desc(), t.eval_results.c.id.desc()).limit(1)
        with self._tx() as conn:
            row = conn.execute(q).mappings().first()
        return EvalResult.model_validate(dict(row)) if row is not None else None
