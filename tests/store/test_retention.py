"""``store/retention.py`` on the database under test: a prune removes old ended runs with
their records, in bounded batches, keeps open work, the rollups and a verifiable chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from warden.core.events import HandoffCreated, ModelCallRecorded, RunRecorded, ToolCallRecorded
from warden.core.runs import (
    Handoff,
    ModelCallRecord,
    RunFilter,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.store import SqlStore
from warden.store import tables as t

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _ended(run_id: str, day: int, agent: str = "a", **fields) -> list:
    at = T0 + timedelta(days=day)
    run = RunRecord(
        id=run_id,
        agent=agent,
        spec_hash="h",
        started_at=at,
        ended_at=at,
        status=RunStatus.RESOLVED,
        **fields,
    )
    call = ToolCallRecord(
        run_id=run_id, seq=1, tool="t", status=ToolCallStatus.SUCCEEDED, started_at=at, ended_at=at
    )
    model = ModelCallRecord(run_id=run_id, seq=1, model="m", input_tokens=3, at=at)
    return [RunRecorded(run=run), ToolCallRecorded(call=call), ModelCallRecorded(call=model)]


def _count(store: SqlStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_prune_removes_old_runs_in_batches_and_keeps_open_work(store: SqlStore) -> None:
    events = []
    for i in range(7):
        events += _ended(f"old{i}", i)
    events += _ended("recent", 40)
    events += _ended("other-agent", 1, agent="b")
    waiting = Handoff(
        id="h1",
        run_id="old6",
        agent="a",
        queue="q",
        trigger="manual",
        reason="r",
        created_at=T0,
    )
    events.append(HandoffCreated(handoff=waiting))
    events.append(RunRecorded(run=RunRecord(id="live", agent="a", spec_hash="h", started_at=T0)))
    store.apply(events)
    totals = store.run_totals("a", since=T0 - timedelta(days=1))
    cutoff = T0 + timedelta(days=30)
    assert store.prune_runs("a", cutoff, limit=4, actor="ops", at=cutoff) == 4
    assert store.prune_runs("a", cutoff, limit=4, actor="ops", at=cutoff) == 2  # old6 waits
    assert store.prune_runs("a", cutoff, limit=4, actor="ops", at=cutoff) == 0
    left = {r.id for r in store.list_runs(RunFilter())}
    assert left == {"old6", "recent", "other-agent", "live"}
    assert _count(store, t.tool_calls) == 3 and _count(store, t.model_calls) == 3
    assert store.run_totals("a", since=T0 - timedelta(days=1)) == totals  # rollups stay
    pruned = [e for e in store.list_audit(agent="a") if e.action == "store.pruned"]
    assert [e.actor for e in pruned] == ["ops", "ops"]
    check = store.verify_audit()
    assert check.intact, check.problem
    assert (check.runs_pruned, check.runs_checked) == (6, 3)  # "live" is still running


def test_a_run_deleted_without_a_recorded_prune_fails_verify(store: SqlStore) -> None:
    store.apply(_ended("r1", 1) + _ended("r2", 2))
    store.prune_runs("a", T0 + timedelta(days=1, hours=12), limit=10, actor="ops", at=T0)
    with store.engine.begin() as conn:  # r2 is newer than the prune's cutoff
        conn.execute(sa.delete(t.tool_calls).where(t.tool_calls.c.run_id == "r2"))
        conn.execute(sa.delete(t.runs).where(t.runs.c.id == "r2"))
    check = store.verify_audit()
    assert not check.intact
    assert check.first_bad_run == "r2" and "removed" in check.problem


def test_a_batch_must_hold_a_run(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        store.prune_runs("a", T0, limit=0, actor="ops", at=T0)
