"""What an attacker with write access to the database can do to the audit log, for the
tests that show ``audit verify`` catches it (issue Authority, finding 1)."""

from __future__ import annotations

import sqlalchemy as sa

from warden.core.audit import GENESIS_HASH, entry_hash
from warden.store.tables import audit_head, audit_log

_HASHED = ("seq", "at", "actor", "action", "agent", "subject", "reason", "before", "after")


def rehash_chain(engine: sa.Engine, from_seq: int, **edit: object) -> None:
    """Edit entry ``from_seq`` (``edit``: column values) and recompute every hash with the
    package's own ``entry_hash``, head included: all a database writer needs."""
    with engine.begin() as conn:
        rows = [
            dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).mappings()
        ]
        prev = GENESIS_HASH
        for row in rows:
            if row["seq"] == from_seq:
                row.update(edit)
            row["prev_hash"] = prev
            row["hash"] = entry_hash(**{k: row[k] for k in _HASHED}, prev_hash=prev)
            conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.seq == row["seq"])
                .values({k: row[k] for k in (*edit, "prev_hash", "hash")})
            )
            prev = row["hash"]
        conn.execute(sa.update(audit_head).values(seq=rows[-1]["seq"], hash=prev))
