"""Fixtures of the CLI tests: ``cli`` runs ``warden`` in-process against the database under
test (which exists: operator commands never create a store), as ``actor`` (override the
``actor`` fixture in a module to act as someone else) and as the OS user ``dana``
(``os_user("sam")`` switches: the principal two-person rules compare); ``seen`` gives the store a trace of an
agent (a run), so that ``warden kill`` knows it.

A result's ``stdout`` is what a script reads (``--json``); ``output`` adds stderr, where
operator commands name the store they act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.pages_server import page_sink
from warden.cli.main import app
from warden.core.events import RunRecorded
from warden.core.runs import RunRecord, RunStatus

ROLLOUT_TOOLS: dict[str, Any] = {
    "route_ticket": {"access": "write", "arguments": {"queue": {"max_length": 40}}}
}
ONCALL_TOOLS: dict[str, Any] = {
    "route_ticket": {"access": "write", "arguments": {"queue": {"max_length": 20}}}
}


@pytest.fixture
def actor() -> str:
    return "oncall-dana"


@pytest.fixture
def os_user(monkeypatch) -> Callable[[str], None]:
    """``os_user(name)``: the CLI now runs as the OS user ``name`` (default ``dana``)."""
    current = ["dana"]
    monkeypatch.setattr("warden.cli.shared.os_user", lambda: current[0])

    def switch(name: str) -> None:
        current[0] = name

    return switch


@pytest.fixture
def cli(database_url, store, monkeypatch, actor, os_user):
    monkeypatch.setenv("WARDEN_DATABASE_URL", database_url)
    monkeypatch.setenv("WARDEN_ACTOR", actor)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def seen(store) -> Callable[[str], None]:
    """``seen(agent)``: record a finished run of ``agent``, so the store knows it."""

    def record(agent: str) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        run = RunRecord(
            id=f"run_seen_{agent}",
            agent=agent,
            spec_hash="h",
            started_at=at,
            ended_at=at,
            status=RunStatus.RESOLVED,
        )
        store.apply([RunRecorded(run=run)])

    return record


@pytest.fixture
def rollout_gov(make_governor, spec_factory):
    """``test-agent`` in shadow (3 compared runs to pass the agreement check), with its tool."""
    g = make_governor(spec_factory(ROLLOUT_TOOLS, rollout={"shadow": {"min_runs": 3}}))

    @g.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    return g


@pytest.fixture
def sink():
    with page_sink() as s:
        yield s


@pytest.fixture
def oncall_gov(make_governor, spec_factory, sink):
    """``test-agent`` in rollout, paging a webhook and a Slack channel on ``sink``."""
    oncall = {
        "channels": [
            {"type": "webhook", "target": f"{sink.url}/owner"},
            {"type": "slack", "target": f"{sink.url}/slack"},
        ]
    }
    return make_governor(
        spec_factory(ONCALL_TOOLS, rollout={}, oncall=oncall), kill_criteria_every_s=None
    )
