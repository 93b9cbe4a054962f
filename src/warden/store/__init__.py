"""Persistence: SQLAlchemy 2 + Alembic, SQLite (WAL) by default, PostgreSQL by URL.

``SqlStore`` (``sql_store``) composes one module per resource (``runs``, ``approvals``,
``rollout``, ``killswitch``, ...) on the engine and transactions of ``base``; the tables
are in ``tables`` and the Alembic migrations in ``migrations``.
"""

from warden.store.sql_store import SqlStore, default_sqlite_url, migrate

__all__ = ["SqlStore", "default_sqlite_url", "migrate", "open_store"]


def open_store(url: str, *, auto_migrate: bool = True) -> SqlStore:
    """Open the store at ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Raises:
        StoreConfigError: Unsupported URL.
        StoreUnavailable: Unreachable database.
    """
    return SqlStore(url, auto_migrate=auto_migrate)
