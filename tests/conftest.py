"""Shared fixtures.

The database under test:

- neither variable below set: SQLite, a new file in each test's ``tmp_path`` (the default);
- ``WARDEN_TEST_POSTGRES=1``: PostgreSQL, on a throwaway cluster the run starts from the
  server binaries (``initdb``, ``pg_ctl``: on ``PATH``, from ``pg_config --bindir`` or in
  ``/usr/lib/postgresql/*/bin``; as root, as the ``postgres`` OS user, since ``initdb``
  refuses root) in a temporary directory, on a free 127.0.0.1 port, and stops and removes
  at the end, on Ctrl-C, SIGTERM and failure too (``tests/_pgcluster.py``);
- ``WARDEN_TEST_DATABASE_URL=postgresql+psycopg://...``: PostgreSQL, on that external
  server (it takes precedence over ``WARDEN_TEST_POSTGRES``).

On PostgreSQL each test gets the schema migrated and every table truncated. Under
pytest-xdist (``-n 2``) each worker has a database of its own, named after the run's with
the worker id appended (``warden_gw0``, ``warden_gw1``, or ``<given>_gw0`` on an external
server), created at its first PostgreSQL test and dropped at its end; the throwaway cluster
is started once, by the controller, before the workers. ``PG_URL`` is the database this
process tests against (set by ``pytest_configure``, before any test module is imported) and
``ON_POSTGRES`` whether it is PostgreSQL (known when this module is imported).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests import _pgcluster
from warden.core.clock import FakeClock
from warden.core.incidents import Incident
from warden.core.spec import AgentSpec
from warden.sdk import Warden
from warden.store import SqlStore
from warden.store.tables import metadata

_EXTERNAL_URL = os.environ.get("WARDEN_TEST_DATABASE_URL", "")
_THROWAWAY = os.environ.get("WARDEN_TEST_POSTGRES", "") not in ("", "0")
_CLUSTER_URL_VAR = "_WARDEN_TEST_PG_CLUSTER_URL"
"""How the controller hands the throwaway cluster's URL to its xdist workers."""

ON_POSTGRES = _EXTERNAL_URL.startswith("postgresql") or _THROWAWAY
PG_URL = _EXTERNAL_URL if _EXTERNAL_URL.startswith("postgresql") else ""
"""The PostgreSQL database this process tests against ("" on SQLite); final once
``pytest_configure`` has run. Fixtures should take ``database_url`` instead."""

_BASE_URL = ""  # the run's database: the external one, or `warden` on the throwaway cluster
_WORKER = ""  # this process's xdist worker id ("" when it is not a worker)
_cluster: _pgcluster.PgCluster | None = None


def pytest_configure(config: pytest.Config) -> None:
    global PG_URL, _BASE_URL, _WORKER, _cluster
    if not ON_POSTGRES:
        return
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if _EXTERNAL_URL.startswith("postgresql"):
        _BASE_URL = _EXTERNAL_URL
    elif workerinput is None:  # the controller (or a run without xdist): start the cluster
        _cluster = _start_cluster(config)
        _BASE_URL = _cluster.url("warden")
        _pgcluster.create_database(_cluster.url("postgres"), "warden")
        os.environ[_CLUSTER_URL_VAR] = _BASE_URL  # the workers, started after this, inherit it
    else:
        _BASE_URL = os.environ.get(_CLUSTER_URL_VAR, "")
        if not _BASE_URL:
            raise pytest.UsageError(f"xdist worker without {_CLUSTER_URL_VAR} from its controller")
    PG_URL = _BASE_URL
    if workerinput is not None:
        _WORKER = str(workerinput["workerid"])
        database = sa.make_url(_BASE_URL).database or "warden"
        PG_URL = _pgcluster.with_database(_BASE_URL, f"{database}_{_WORKER}")


def _start_cluster(config: pytest.Config) -> _pgcluster.PgCluster:
    """Start the throwaway cluster; stop and remove it when pytest ends, however it ends."""
    try:
        cluster = _pgcluster.PgCluster.start()
    except _pgcluster.PgClusterError as exc:
        raise pytest.UsageError(f"WARDEN_TEST_POSTGRES=1: {exc}") from None
    config.add_cleanup(cluster.stop)  # runs on success, failure and Ctrl-C alike
    # pytest cleans up on Ctrl-C (KeyboardInterrupt) but a SIGTERM (a CI timeout, `kill`)
    # would end the process on the spot and leave the server running: make it a Ctrl-C.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        def restore() -> None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, on_sigterm)
        config.add_cleanup(restore)
    return cluster


def pytest_report_header(config: pytest.Config) -> str:
    if not ON_POSTGRES:
        return "warden store under test: SQLite"
    shown = sa.make_url(PG_URL).render_as_string(hide_password=True)
    if _cluster is not None:
        where = f"throwaway PostgreSQL {_cluster.version} in {_cluster.root}: {shown}"
    else:
        where = f"PostgreSQL {shown}"
    if getattr(config.option, "numprocesses", None):
        where += " (one database per xdist worker: <name>_gw0, <name>_gw1, ...)"
    return f"warden store under test: {where}"


@pytest.fixture(scope="session")
def _pg_migrated() -> Iterator[str]:
    """This process's PostgreSQL database, migrated; an xdist worker creates its own here
    and drops it at the end of the session."""
    if _WORKER:
        _pgcluster.create_database(_BASE_URL, sa.make_url(PG_URL).database or "")
    try:
        store = SqlStore(PG_URL)
        store.close()
        yield PG_URL
    finally:
        # A stopped kill-switch listener leaves within half a second; dropping its database
        # (or stopping the cluster) under it first would only log a disconnection warning.
        deadline = time.monotonic() + 1.0
        for thread in threading.enumerate():
            if thread.name == "warden-kill-listen":
                thread.join(max(0.0, deadline - time.monotonic()))
        if _WORKER:
            _pgcluster.drop_database(_BASE_URL, sa.make_url(PG_URL).database or "")


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
