"""Persistence: SQLAlchemy 2 + Alembic, SQLite (WAL) by default, PostgreSQL by URL."""

from warden.store.sql import SqlStore, default_sqlite_url, migrate

__all__ = ["SqlStore", "default_sqlite_url", "migrate", "open_store"]


def open_store(url: str, *, auto_migrate: bool = True) -> SqlStore:
    """Open the store at ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Raises:
        StoreConfigError: Unsupported URL.
        StoreUnavailable: Unreachable database.
    """
    return SqlStore(url, auto_migrate=auto_migrate)
