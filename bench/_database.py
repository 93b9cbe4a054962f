"""A database of the benchmark's own on a PostgreSQL server (shared by the scripts in bench/).

``--postgres-server URL`` gives a server, not a database: the benchmark creates
``warden_bench_<pid>`` there, runs in it, and drops it at the end (on an error or Ctrl-C
too), so it neither reads nor deletes anything another run, benchmark or test suite keeps
in a database of that server. ``URL`` names the database to connect to for ``CREATE
DATABASE`` / ``DROP DATABASE`` (``postgres`` is always there), as a role allowed to create
databases.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator

import sqlalchemy as sa

HELP = (
    "a PostgreSQL server to run on, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres: "
    "the benchmark creates the database warden_bench_<pid> there and drops it at the end"
)


def add_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--postgres-server URL`` to ``parser``."""
    parser.add_argument("--postgres-server", default=None, metavar="URL", help=HELP)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse ``--postgres-server`` with ``--database-url``, or not naming PostgreSQL."""
    server = args.postgres_server
    if server is None:
        return
    if args.database_url is not None:
        parser.error("give --database-url or --postgres-server, not both")
    if not server.startswith("postgresql"):
        parser.error("--postgres-server takes a postgresql+psycopg://... URL")


def _quote(engine: sa.Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


@contextlib.contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """Create ``warden_bench_<pid>`` on the server ``server_url`` points at and yield its
    URL; drop it (closing any session still in it) when the block ends, however it ends.

    Args:
        server_url: A SQLAlchemy ``postgresql+psycopg://`` URL naming an existing
            database to connect to for the ``CREATE`` and the ``DROP``.
    """
    name = f"warden_bench_{os.getpid()}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {_quote(engine, name)}"))
        try:
            yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as conn:
                _drop(conn, name)
    finally:
        engine.dispose()


def _drop(conn: sa.Connection, name: str, grace_s: float = 5.0) -> None:
    """Drop ``name`` once its sessions have left (a closed store's kill-switch listener
    leaves within a second), or after ``grace_s`` closing those still there."""
    deadline = time.monotonic() + grace_s
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db")
    while conn.execute(query, {"db": name}).scalar() and time.monotonic() < deadline:
        time.sleep(0.05)
    force = " WITH (FORCE)" if (conn.dialect.server_version_info or ()) >= (13,) else ""
    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_quote(conn.engine, name)}{force}"))


@contextlib.contextmanager
def store_url(args: argparse.Namespace, default: str) -> Iterator[str]:
    """The store's URL: a database of the benchmark's own on ``--postgres-server`` (see
    ``own_database``), else ``--database-url``, else ``default``."""
    if args.postgres_server:
        with own_database(args.postgres_server) as url:
            yield url
    else:
        yield args.database_url or default
