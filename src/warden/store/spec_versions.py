"""Spec versions in SQL: each agent's specs, stored once per content hash.

Saving a version whose content hash is already stored changes nothing and returns the
stored one (its first ``created_at``), so every process that starts with the same spec can
save it.
"""

from __future__ import annotations

import sqlalchemy as sa

from warden.core.runs import SpecVersion
from warden.store import tables as t
from warden.store.base import SqlBase

__all__ = ["SpecVersionsSql"]


class SpecVersionsSql(SqlBase):
    """Spec-version methods of ``SqlStore``."""

    def save_spec_version(self, version: SpecVersion) -> SpecVersion:
        """Store a spec version unless that content hash is stored; return the stored one."""
        with self._tx() as conn:
            self._upsert(
                conn,
                t.spec_versions,
                [version.model_dump(mode="json") | {"created_at": version.created_at}],
                ["agent", "content_hash"],
                update=False,
            )
        stored = self.get_spec_version(version.agent, version.content_hash)
        assert stored is not None
        return stored

    def list_spec_versions(self, agent: str | None = None) -> list[SpecVersion]:
        """Stored spec versions, newest first (of one agent, or of all)."""
        q = sa.select(t.spec_versions).order_by(t.spec_versions.c.created_at.desc())
        if agent is not None:
            q = q.where(t.spec_versions.c.agent == agent)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [SpecVersion.model_validate(dict(r)) for r in rows]

    def get_spec_version(self, agent: str, content_hash: str) -> SpecVersion | None:
        """The stored version of ``agent`` with ``content_hash``, or None."""
        with self._tx() as conn:
            row = (
                conn.execute(
                    sa.select(t.spec_versions).where(
                        t.spec_versions.c.agent == agent,
                        t.spec_versions.c.content_hash == content_hash,
                    )
                )
                .mappings()
                .first()
            )
        return SpecVersion.model_validate(dict(row)) if row else None
