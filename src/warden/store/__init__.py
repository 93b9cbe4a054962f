"""Persistence: SQLAlchemy 2 + Alembic, SQLite (WAL) by default, PostgreSQL by URL.

``SqlStore`` (``sql_store``) composes one module per resource (``runs``, ``approvals``,
``rollout``, ``killswitch``, ...) on the engine and transactions of ``base``; the tables
are in ``tables`` and the Alembic migrations in ``migrations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warden.store.sql_store import SqlStore, default_sqlite_url, migrate

if TYPE_CHECKING:
    from warden.core.audit import AuditKey

__all__ = ["SqlStore", "default_sqlite_url", "migrate", "open_store"]


def open_store(
    url: str, *, auto_migrate: bool = True, audit_key: AuditKey | None = None
) -> SqlStore:
    """Open the store at ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Args:
        url: The database.
        auto_migrate: Migrate the schema to the newest revision first.
        audit_key: The key that MACs the audit log (``Settings.audit_key()``).

    Raises:
        StoreConfigError: Unsupported URL.
        StoreUnavailable: Unreachable database.
    """
    return SqlStore(url, auto_migrate=auto_migrate, audit_key=audit_key)
