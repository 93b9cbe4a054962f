"""Runs on the database under test: upserts, filters, daily usage, heartbeats, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import make_spec
from warden.core.events import HandoffCreated, ModelCallRecorded, RunHeartbeat, RunRecorded
from warden.core.rollout import RolloutAction, RolloutState, Stage, transition_to
from warden.core.runs import (
    Handoff,
    ModelCallRecord,
    RunFilter,
    RunMode,
    RunRecord,
    RunStatus,
    SpecVersion,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _run(run_id: str, **fields) -> RunRecord:
    base = {"id": run_id, "agent": "a", "spec_hash": "h", "started_at": T0}
    return RunRecord(**(base | fields))


def test_datetimes_come_back_timezone_aware(store) -> None:
    store.apply([RunRecorded(run=_run("r1"))])
    got = store.get_run("r1").run
    assert got.started_at == T0
    assert got.started_at.tzinfo is not None


def test_list_runs_filters_and_orders_newest_first(store) -> None:
    store.apply(
        [
            RunRecorded(run=_run("r1", started_at=T0)),
            RunRecorded(
                run=_run("r2", started_at=T0 + timedelta(minutes=1), status=RunStatus.BLOCKED)
            ),
            RunRecorded(
                run=_run("r3", started_at=T0 + timedelta(minutes=2), agent="b", mode=RunMode.SHADOW)
            ),
        ]
    )
    assert [r.id for r in store.list_runs(RunFilter())] == ["r3", "r2", "r1"]
    assert [r.id for r in store.list_runs(RunFilter(agent="a"))] == ["r2", "r1"]
    assert [r.id for r in store.list_runs(RunFilter(status=RunStatus.BLOCKED))] == ["r2"]
    assert [r.id for r in store.list_runs(RunFilter(mode=RunMode.SHADOW))] == ["r3"]
    assert [r.id for r in store.list_runs(RunFilter(since=T0 + timedelta(seconds=30)))] == [
        "r3",
        "r2",
    ]
    assert [r.id for r in store.list_runs(RunFilter(limit=1))] == ["r3"]


def test_daily_usage_counts_runs_and_cost_since_a_moment(store) -> None:
    store.apply(
        [
            RunRecorded(run=_run("old", started_at=T0 - timedelta(days=1), cost_usd=5.0)),
            RunRecorded(run=_run("r1", cost_usd=0.25)),
            RunRecorded(run=_run("r2", cost_usd=0.5)),
            RunRecorded(run=_run("other", agent="b", cost_usd=9.0)),
        ]
    )
    assert store.daily_usage("a", T0 - timedelta(hours=1)) == (2, pytest.approx(0.75))


def test_heartbeats_keep_runs_alive_and_stale_runs_are_interrupted(store) -> None:
    store.apply(
        [
            RunRecorded(run=_run("alive")),
            RunRecorded(run=_run("dead")),
            RunRecorded(run=_run("done", status=RunStatus.RESOLVED)),
        ]
    )
    store.apply([RunHeartbeat(run_ids=["alive", "done"], at=T0 + timedelta(minutes=10))])
    marked = store.mark_interrupted(T0 + timedelta(minutes=5), T0 + timedelta(minutes=11))
    assert marked == ["dead"]
    assert store.get_run("dead").run.status is RunStatus.INTERRUPTED
    assert store.get_run("alive").run.status is RunStatus.RUNNING
    assert store.get_run("done").run.status is RunStatus.RESOLVED
    assert store.get_run("done").run.heartbeat_at is None  # terminal runs are not touched


def test_a_reaped_run_is_sealed_in_the_audit_chain(store) -> None:
    """Regression (issue Authority): runs ended by ``reap`` were never sealed, so their
    tool calls could be edited without ``audit verify`` noticing."""
    store.apply([RunRecorded(run=_run("dead").model_copy(update={"mode_override": True}))])
    store.mark_interrupted(T0 + timedelta(minutes=5), T0 + timedelta(minutes=11))
    sealed = [e for e in store.audit_entries(runs=True) if e.subject == "dead"]
    assert [e.action for e in sealed] == ["run.decisions", "run.mode_override"]
    assert "interrupted" in (sealed[0].reason or "")
    assert store.verify_audit().intact
    store.mark_interrupted(T0 + timedelta(minutes=30), T0 + timedelta(minutes=31))
    assert len([e for e in store.audit_entries(runs=True) if e.subject == "dead"]) == 2


def test_replaying_events_is_idempotent(store) -> None:
    handoff = Handoff(
        id="h1", run_id="r1", agent="a", queue="q", trigger="manual", reason="r", created_at=T0
    )
    model = ModelCallRecord(run_id="r1", seq=1, model="m", input_tokens=3, at=T0)
    batch = [
        RunRecorded(run=_run("r1")),
        ModelCallRecorded(call=model),
        HandoffCreated(handoff=handoff),
    ]
    store.apply(batch)
    store.apply(batch)
    detail = store.get_run("r1")
    assert len(detail.model_calls) == 1
    assert len(detail.handoffs) == 1


def test_find_run_ids_by_prefix_in_id_order_case_sensitive_at_most_limit(store) -> None:
    ids = ["run_ab12", "run_ab34", "run_ac56", "run_AB78", "run_abc", "other"]
    store.apply([RunRecorded(run=_run(i)) for i in ids])
    assert store.find_run_ids("run_ab", 10) == ["run_ab12", "run_ab34", "run_abc"]
    assert store.find_run_ids("run_ab", 2) == ["run_ab12", "run_ab34"]
    assert store.find_run_ids("run_ac", 10) == ["run_ac56"]
    assert store.find_run_ids("run_abc", 10) == ["run_abc"]  # a whole id is its own prefix
    assert store.find_run_ids("run_AB", 10) == ["run_AB78"]  # case-sensitive on both databases
    assert store.find_run_ids("run_x", 10) == []
    assert store.find_run_ids("", 3) == ["other", "run_AB78", "run_ab12"]


def test_find_run_ids_takes_like_wildcards_literally(store) -> None:
    ids = ["r_1", "rx1", "r%2", "ry%2", "r\\3", "r/4", "rz4"]
    store.apply([RunRecorded(run=_run(i)) for i in ids])
    assert store.find_run_ids("r_", 10) == ["r_1"]
    assert store.find_run_ids("r%", 10) == ["r%2"]
    assert store.find_run_ids("r\\", 10) == ["r\\3"]
    assert store.find_run_ids("r/", 10) == ["r/4"]
    assert store.find_run_ids("%", 10) == []
    assert store.find_run_ids("_", 10) == []


def test_find_run_ids_searches_the_primary_key_on_sqlite(store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    store.apply([RunRecorded(run=_run(f"run_{i:04x}")) for i in range(50)])
    seen: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert len(store.find_run_ids("run_00", 10)) == 10
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = [(q, p) for q, p in seen if "FROM runs" in q]
    with store.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "SEARCH" in plan and "SCAN" not in plan, plan


def test_agent_seen_looks_at_spec_versions_runs_rollouts_and_kill_switches(store) -> None:
    assert not store.agent_seen("a")
    assert store.seen_agents() == []
    store.apply([RunRecorded(run=_run("r1", agent="with-run"))])
    spec = make_spec().model_copy(
        update={"metadata": make_spec().metadata.model_copy(update={"name": "with-spec"})}
    )
    store.save_spec_version(SpecVersion.of(spec, T0))
    store.set_kill_switch("with-switch", engaged=True, reason="r", actor="x", at=T0)
    state = RolloutState(
        agent="with-rollout",
        stage=Stage.SHADOW,
        spec_hash="h",
        stage_since=T0,
        updated_at=T0,
        updated_by="x",
    )
    store.save_rollout(
        state,
        expected_version=None,
        transition=transition_to(state, RolloutAction.START, None, "x"),
    )
    seen = ["with-rollout", "with-run", "with-spec", "with-switch"]
    assert all(store.agent_seen(a) for a in seen)
    assert not store.agent_seen("with-ru")
    assert not store.agent_seen("a")
    assert store.seen_agents() == seen
