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
