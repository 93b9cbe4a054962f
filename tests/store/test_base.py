"""``SqlBase``: the URLs the store opens, and the ones it refuses."""

from __future__ import annotations

import pytest

from warden.errors import StoreConfigError
from warden.store import SqlStore


def test_unsupported_url_is_a_config_error() -> None:
    with pytest.raises(StoreConfigError):
        SqlStore("mysql://root@localhost/test")
    with pytest.raises(StoreConfigError):
        SqlStore("not a url")


def test_the_known_head_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from warden.store.base import HEAD_REVISION, _alembic_config

    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION


def test_an_up_to_date_store_opens_without_alembic(tmp_path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'w.db'}"
    code = (
        "import sys; from warden.store import open_store; "
        f"open_store({url!r}).close(); "
        "print('alembic' in sys.modules, 'psycopg' in sys.modules)"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["True", "False"]  # a new store is migrated
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert again.stdout.split() == ["False", "False"]  # at the head: no Alembic, no psycopg


def test_the_migrations_build_the_schema_the_tables_module_declares(database_url) -> None:
    """Alembic's autogenerate finds nothing to add, drop or change between the migrated
    database and ``store.tables`` (a column or index added in one place only fails here)."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from warden.store import SqlStore
    from warden.store.tables import metadata

    SqlStore(database_url).close()
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diffs == []


def test_migration_0009_gives_stored_tool_calls_their_runs_agent(database_url) -> None:
    """A store at 0008 with runs and tool calls: after the upgrade each call carries its
    run's agent (NULL for a call whose run is not stored), and PostgreSQL has statistics."""
    import sqlalchemy as sa
    from alembic import command

    from warden.store.base import _alembic_config, _stored_revision, migrate

    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        if _stored_revision(conn) is None:  # SQLite: a new file
            command.upgrade(cfg, "0008")
        else:  # PostgreSQL: the worker's database, at the head
            command.downgrade(cfg, "0008")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO runs (id, agent, spec_hash, mode, status, started_at) "
            "VALUES ('r1', 'a', 'h', 'live', 'running', '2026-03-01 12:00:00')"
        )
        for run_id in ("r1", "gone"):
            conn.exec_driver_sql(
                "INSERT INTO tool_calls (run_id, seq, tool, arguments, args_hash, status, "
                f"started_at) VALUES ('{run_id}', 1, 't', '{{}}', '', 'succeeded', "
                "'2026-03-01 12:00:01')"
            )
    migrate(engine)
    with engine.begin() as conn:
        agents = dict(conn.exec_driver_sql("SELECT run_id, agent FROM tool_calls").all())
        analyzed = (
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'tool_calls' "
                "AND last_analyze IS NOT NULL"
            ).scalar()
            if engine.dialect.name == "postgresql"
            else 1
        )
    engine.dispose()
    assert agents == {"r1": "a", "gone": None}
    assert analyzed == 1
