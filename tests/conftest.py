"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
``WARDEN_TEST_DATABASE_URL`` is a ``postgresql+psycopg://`` URL (see ``.ci/run``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from warden.core.clock import FakeClock
from warden.core.incidents import Incident
from warden.core.spec import AgentSpec
from warden.sdk import Warden
from warden.store import SqlStore
from warden.store.tables import metadata

PG_URL = os.environ.get("WARDEN_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")


def pytest_report_header(config: pytest.Config) -> str:
    return f"warden store under test: {'PostgreSQL ' + PG_URL if ON_POSTGRES else 'SQLite'}"


@pytest.fixture(scope="session")
def _pg_migrated() -> str:
    store = SqlStore(PG_URL)
    store.close()
    return PG_URL


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL with an empty, migrated schema: SQLite in tmp_path, or PostgreSQL truncated."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / 'warden.db'}"
    url: str = request.getfixturevalue("_pg_migrated")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    """An open store on the database under test."""
    s = SqlStore(database_url)
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting 2026-01-01T00:00:00Z."""
    return FakeClock()


BASE_SPEC: dict[str, Any] = {
    "apiVersion": "warden/v1",
    "kind": "Agent",
    "metadata": {
        "name": "test-agent",
        "version": "1.0.0",
        "owner": "alice@example.com",
        "backup_owner": "bob@example.com",
        "runbook": "docs/runbook.md",
    },
    "spec": {
        "scope": "Test agent.",
        "tools": {},
        "escalation": {"queue": "tier1-humans"},
    },
}


def make_incident(**fields: Any) -> Incident:
    """An ``Incident`` for tests: an advisory ``error_rate`` trip of ``test-agent`` opened
    now, with any field replaced by a keyword argument."""
    values: dict[str, Any] = {
        "id": "inc_1",
        "agent": "test-agent",
        "criterion": "error_rate > 0.1 over 3600 s",
        "metric": "error_rate",
        "threshold": 0.1,
        "value": 0.3,
        "samples": 60,
        "window_s": 3600,
        "action": "page",
        "mode": "advisory",
        "applied": "paged",
        "spec_hash": "h",
        "dedup_key": "test-agent:error_rate:1",
        "summary": "error rate 30 %",
        "opened_at": datetime.now(UTC),
    }
    return Incident.model_validate(values | fields)


def make_spec(tools: dict[str, Any] | None = None, **spec_fields: Any) -> AgentSpec:
    """A valid spec with ``tools`` and any other ``spec`` fields overridden."""
    doc = yaml.safe_load(yaml.safe_dump(BASE_SPEC))
    doc["spec"]["tools"] = tools or {}
    for key, value in spec_fields.items():
        if value is None:
            doc["spec"].pop(key, None)
        else:
            doc["spec"][key] = value
    return AgentSpec.model_validate(doc)


GovernorFactory = Callable[..., Warden]


@pytest.fixture
def make_governor(store: SqlStore, clock: FakeClock, tmp_path: Path) -> Iterator[GovernorFactory]:
    """Factory: ``make_governor(spec, **options)`` -> a ``Warden`` (a governor with its control-side duties) on the test store."""
    made: list[Warden] = []

    def factory(spec: AgentSpec, **options: Any) -> Warden:
        options.setdefault("clock", clock)
        options.setdefault("spool_dir", tmp_path / "spool")
        options.setdefault("flush_interval_s", 0.01)
        options.setdefault("approval_poll_s", 0.01)
        gov = Warden(spec, options.pop("store", store), **options)
        made.append(gov)
        return gov

    yield factory
    for gov in made:
        gov.close()


@pytest.fixture
def spec_factory() -> Callable[..., AgentSpec]:
    """``spec_factory(tools, **spec_fields)`` -> a valid ``AgentSpec`` (see ``make_spec``)."""
    return make_spec
