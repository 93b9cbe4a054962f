"""The SQL plumbing every part of ``SqlStore`` shares: engine, transactions, upserts,
migrations.

Two kinds of transaction:

- ``_tx()``: an ordinary transaction (reads, occasional writes); ``_bulk_tx()`` is the
  same for the stream of run-record batches, which on SQLite first passes the write
  gate (``killswitch.write_gate``).
- ``_locked_tx()``: a transaction that changes shared state and writes the audit log. It
  takes the database's write lock first (``BEGIN IMMEDIATE`` on SQLite, with the write
  gate closed while it waits; the audit head row ``FOR UPDATE`` on PostgreSQL), so such
  transactions run one at a time: the audit chain never forks and a read-then-write
  inside one never works on a stale read.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from warden.errors import ConfigError, StoreConfigError, StoreUnavailable
from warden.store.killswitch.write_gate import WriteGate

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD_REVISION", "SqlBase", "analyze", "migrate"]

_MIGRATIONS = Path(__file__).parent / "migrations"

HEAD_REVISION = "0012"
"""The newest Alembic revision in ``migrations/versions`` (a test keeps the two equal).

Knowing it without loading Alembic lets a store at the newest schema open without
importing Alembic at all (about 60 ms of every ``warden`` command's start)."""


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config(str(_MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _stored_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version``, or None when there is no such table yet."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row is not None else None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op when it is there).

    On PostgreSQL, a migration that ran is followed by ``ANALYZE`` (``analyze``): new
    indexes and backfilled columns have planner statistics from the start.

    Raises:
        StoreUnavailable: The database cannot be reached.
    """
    try:
        with engine.begin() as conn:
            if _stored_revision(conn) == HEAD_REVISION:
                return
            from alembic import command

            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            analyze(conn)
    except OperationalError as exc:
        raise StoreUnavailable(f"cannot migrate the store: {exc.orig}") from exc


def analyze(conn: Connection) -> None:
    """Refresh the planner's statistics of every table after a migration or a bulk
    backfill (``ANALYZE`` on PostgreSQL, inside ``conn``'s transaction).

    Nothing on SQLite: its planner works from the schema alone unless ``sqlite_stat1``
    exists, and Warden's queries are written for that plan.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


_LOCK_WAIT_S = 10.0
"""Seconds a state change waits for SQLite's write lock before the store is unavailable."""


def _begin_immediate(conn: Connection, *, gate: WriteGate | None = None) -> None:
    """``BEGIN IMMEDIATE``, retried every millisecond.

    SQLite's own busy handler backs off to 100 ms between tries and cannot see the write
    gate, so both kinds of writer poll the lock here instead. A bulk writer (``gate``
    given) that gets the lock while the gate is closed gives it back, and it passes
    through the gate before every retry. While a state change holds the gate closed,
    only the transaction that already holds the lock is ahead of it: the state change
    gets the lock within a millisecond of that commit. Without the gate, batches that
    ran back to back kept a kill from the lock for more than 10 s.

    The statements go straight to the ``sqlite3`` connection: every run-record batch
    passes here, and through SQLAlchemy these three statements cost ~80 us per batch.

    Args:
        conn: A connection with no transaction open yet.
        gate: The write gate to pass through before each try (bulk writers only).

    Raises:
        StoreUnavailable: The lock was not free within ``_LOCK_WAIT_S`` (10 s), or
            SQLite failed otherwise.
    """
    raw = cast(sqlite3.Connection, conn.connection.driver_connection)
    try:
        raw.execute("PRAGMA busy_timeout=0")
        deadline = time.monotonic() + _LOCK_WAIT_S
        retry = False
        try:
            while True:
                if gate is not None and retry:
                    gate.pass_through()
                retry = True
                try:
                    raw.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.001)
                    continue
                if gate is None or not gate.is_closed():
                    return
                raw.execute("ROLLBACK")  # slipped in as the gate closed: let it go first
        finally:
            raw.execute("PRAGMA busy_timeout=10000")
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"store unreachable: {exc}") from exc


class SqlBase:
    """Engine and transactions on a SQLAlchemy URL.

    Args:
        url: SQLAlchemy URL: ``sqlite:///path/warden.db`` or
            ``postgresql+psycopg://user@host/db``.
        auto_migrate: Run Alembic migrations to head when opening (default True).

    Raises:
        StoreConfigError: The URL is not a supported database.
        StoreUnavailable: The database cannot be reached while migrating.
    """

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        try:
            parsed = sa.make_url(url)
        except sa_exc.ArgumentError as exc:
            raise StoreConfigError(f"not a database URL: {url!r}") from exc
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreConfigError(f"unsupported database {backend!r}: use sqlite or postgresql")
        self.url = parsed
        self.dialect = backend
        self._statements: dict[tuple[str, tuple[str, ...], bool, bool], Any] = {}
        self.sqlite_file: Path | None = None
        """The SQLite database file (None on PostgreSQL and for in-memory SQLite)."""
        self._gate: WriteGate | None = None
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self.sqlite_file = Path(parsed.database)
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
                self._gate = WriteGate.beside(self.sqlite_file)
            self.engine = sa.create_engine(parsed, connect_args={"timeout": 10})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                connect_args={"connect_timeout": 5},
            )
        if auto_migrate:
            migrate(self.engine)

    @contextmanager
    def _tx(self) -> Generator[Connection, None, None]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, sa_exc.InterfaceError) as exc:
            raise StoreUnavailable(f"store unreachable: {exc.orig}") from exc
        except (sa_exc.DataError, sa_exc.IntegrityError) as exc:
            # A value the database refuses (PostgreSQL: a NUL character in text, a number
            # out of range; SQLite: NaN where a number is required): bad input, no outage.
            first = str(exc.orig).splitlines()[0]
            raise ConfigError(f"the store refused a value: {first}") from exc
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(f"store connection lost: {exc.orig}") from exc
            raise
        except sa_exc.StatementError as exc:
            # Raised while preparing a value, before the database saw it: a naive or
            # out-of-range datetime, an integer beyond 64 bits.
            raise ConfigError(f"the store cannot hold a value: {exc.orig}") from exc
        except OverflowError as exc:  # SQLite's driver: an integer beyond 64 bits
            raise ConfigError(f"the store cannot hold a value: {exc}") from exc

    @contextmanager
    def _bulk_tx(self) -> Generator[Connection, None, None]:
        """``_tx()`` for the steady stream of run-record batches (``apply``).

        On a SQLite file it takes the write lock up front, passing the write gate before
        each try, so that a waiting state change goes first (``_begin_immediate``). A
        long writer asks ``_state_change_waiting`` between parts and commits early.

        Raises:
            StoreUnavailable: The database cannot be reached, or its write lock was not
                free within 10 s.
            ConfigError: The database refused a value.
        """
        with self._tx() as conn:
            if self._gate is not None:
                _begin_immediate(conn, gate=self._gate)
            yield conn

    def _state_change_waiting(self) -> bool:
        """True while a state change waits for SQLite's write lock (write gate closed)."""
        return self._gate is not None and self._gate.is_closed()

    @contextmanager
    def _locked_tx(self) -> Generator[Connection, None, None]:
        """A transaction holding the write lock from its first statement (see module doc).

        On PostgreSQL the lock is the audit head row, taken by ``AuditWriter``; callers
        must open an ``AuditWriter`` before touching any other row, so every such
        transaction locks in the same order (no deadlocks).

        Raises:
            StoreUnavailable: The database cannot be reached, or (SQLite) its write lock
                was not free within 10 s.
            ConfigError: The database refused a value.
        """
        with self._tx() as conn:
            if self.dialect == "sqlite":
                # pysqlite opens transactions lazily, before the first write; a transaction
                # that reads first and then writes fails with "database is locked" when
                # another writer committed in between. Take the lock up front instead,
                # with the gate closed so that new run-record batches let us through.
                if self._gate is not None:
                    with self._gate.closed():
                        _begin_immediate(conn)
                else:
                    _begin_immediate(conn)
            yield conn

    @contextmanager
    def _snapshot_tx(self) -> Generator[Connection, None, None]:
        """A read-only transaction whose reads all see one snapshot of the database."""
        with self._tx() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")  # WAL: the first read fixes the snapshot
            else:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: list[dict[str, Any]],
        keys: Sequence[str],
        *,
        update: bool = True,
        where: Callable[[Any], Any] | None = None,
    ) -> None:
        if not rows:
            return
        cache_key = (table.name, tuple(keys), update, where is not None)
        stmt = self._statements.get(cache_key)
        if stmt is None:  # built once per store: building one costs ~200 us
            stmt = self._insert(table)
            if update:
                cols = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_=cols,
                    where=where(table) if where is not None else None,
                )
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
            self._statements[cache_key] = stmt
        conn.execute(stmt, rows)

    def _analyze(self, *tables: sa.Table) -> None:
        """``ANALYZE`` ``tables`` (every table when none) after a bulk backfill, on
        PostgreSQL: a plan chosen without statistics can read a big table once per row of
        another. Nothing on SQLite (``analyze``)."""
        if self.dialect != "postgresql":
            return
        with self._tx() as conn:
            names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables)
            conn.exec_driver_sql(f"ANALYZE {names}".strip())

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        with self._tx() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()
