"""The audit log in SQL: appends inside the transaction that changes the state.

An ``AuditWriter`` is opened at the start of a ``_locked_tx`` (it locks the head row on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the database write lock), so the
state change and its entry commit together or not at all, and concurrent appends are
serialised: the chain never forks.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from warden.core.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    AuditHead,
    ChainCheck,
    verify_chain,
)
from warden.store import tables as t
from warden.store.base import SqlBase

__all__ = ["AuditSql", "AuditWriter"]

_HEAD_ID = 1


class AuditWriter:
    """Appends entries within one locked transaction.

    Args:
        conn: The connection of a ``_locked_tx``.
        dialect: ``sqlite`` or ``postgresql``.
    """

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.head = self._lock_head(dialect)

    def _lock_head(self, dialect: str) -> AuditHead:
        q = sa.select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == _HEAD_ID)
        if dialect == "postgresql":
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        if row is None:  # a new (or truncated) database: the head starts at the genesis
            ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.audit_head)
            self.conn.execute(
                ins.values(id=_HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing()
            )
            row = self.conn.execute(q).one()
        return AuditHead(seq=int(row.seq), hash=str(row.hash))

    def append(self, draft: AuditDraft) -> AuditEntry:
        """Seal ``draft`` as the next entry, insert it and move the head."""
        entry = draft.seal(self.head.seq + 1, self.head.hash)
        self.conn.execute(sa.insert(t.audit_log).values(**entry.model_dump()))
        self.conn.execute(
            sa.update(t.audit_head)
            .where(t.audit_head.c.id == _HEAD_ID)
            .values(seq=entry.seq, hash=entry.hash)
        )
        self.head = AuditHead(seq=entry.seq, hash=entry.hash)
        return entry


class AuditSql(SqlBase):
    """Audit-log methods of ``SqlStore``."""

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append one entry for an act whose state lives outside the store (e.g. a drill)."""
        with self._locked_tx() as conn:
            return AuditWriter(conn, self.dialect).append(draft)

    def list_audit(
        self, *, agent: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[AuditEntry]:
        """Entries in ``seq`` order, optionally for one agent, after ``after_seq``."""
        q = sa.select(t.audit_log).where(t.audit_log.c.seq > after_seq).order_by(t.audit_log.c.seq)
        if agent is not None:
            q = q.where(t.audit_log.c.agent == agent)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [AuditEntry.model_validate(dict(r)) for r in rows]

    def audit_head(self) -> AuditHead:
        """The newest entry's number and hash (the genesis when the log is empty)."""
        with self._tx() as conn:
            row = conn.execute(
                sa.select(t.audit_head.c.seq, t.audit_head.c.hash).where(
                    t.audit_head.c.id == _HEAD_ID
                )
            ).first()
        return AuditHead(seq=int(row.seq), hash=str(row.hash)) if row else AuditHead()

    def verify_audit(self) -> ChainCheck:
        """Check the whole log's chain against the head, on one snapshot of the database."""
        with self._snapshot_tx() as conn:
            row = conn.execute(
                sa.select(t.audit_head.c.seq, t.audit_head.c.hash).where(
                    t.audit_head.c.id == _HEAD_ID
                )
            ).first()
            head = AuditHead(seq=int(row.seq), hash=str(row.hash)) if row else AuditHead()
            rows = conn.execute(
                sa.select(t.audit_log).order_by(t.audit_log.c.seq).execution_options(yield_per=1000)
            ).mappings()
            return verify_chain((AuditEntry.model_validate(dict(r)) for r in rows), head)
