"""Runs on the database under test: upserts, filters, daily usage, heartbeats, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warden.core.events import HandoffCreated, ModelCallRecorded, RunHeartbeat, RunRecorded
from warden.core.runs import (
    Handoff,
    ModelCallRecord,
    RunFilter,
    RunMode,
    RunRecord,
    RunStatus,
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
