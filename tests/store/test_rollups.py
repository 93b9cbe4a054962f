"""``store/rollups.py`` on the database under test: the totals of any window, read from the
minute and hour buckets, equal the totals of the raw runs in it; replays add nothing; late
tool calls, reaped runs and a rebuild keep them equal."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from warden.core.events import RunRecorded, ToolCallRecorded
from warden.core.metrics import RunTotals
from warden.core.runs import RunMode, RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.store import SqlStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
STATUSES = [
    RunStatus.RESOLVED,
    RunStatus.RESOLVED,
    RunStatus.ESCALATED,
    RunStatus.FAILED,
    RunStatus.INTERRUPTED,
    RunStatus.KILLED,
]
CALLS = [ToolCallStatus.SUCCEEDED, ToolCallStatus.DENIED, ToolCallStatus.FAILED]


def _history(rng: random.Random, n: int) -> list[RunRecorded | ToolCallRecorded]:
    """``n`` runs of two agents, two versions and three modes ending over 100 hours."""
    events: list[RunRecorded | ToolCallRecorded] = []
    for i in range(n):
        ended = T0 + timedelta(seconds=rng.uniform(0, 100 * 3600))
        run = RunRecord(
            id=f"r{i}",
            agent=rng.choice(["a", "a", "b"]),
            spec_hash=rng.choice(["h1", "h2"]),
            mode=rng.choice([RunMode.LIVE, RunMode.LIVE, RunMode.SHADOW, RunMode.FALLBACK]),
            status=RunStatus.RUNNING,
            started_at=ended - timedelta(seconds=5),
        )
        events.append(RunRecorded(run=run))
        for seq in range(1, rng.randint(0, 4) + 1):
            events.append(
                ToolCallRecorded(
                    call=ToolCallRecord(
                        run_id=run.id,
                        seq=seq,
                        tool="t",
                        status=rng.choice(CALLS),
                        started_at=run.started_at,
                        ended_at=ended,
                    )
                )
            )
        done = run.model_copy(
            update={
                "status": rng.choice(STATUSES),
                "ended_at": ended,
                "latency_s": rng.choice([None, rng.uniform(0.01, 90)]),
                "cost_usd": round(rng.uniform(0, 0.05), 6),
            }
        )
        events.append(RunRecorded(run=done))
    return events


def _brute(store: SqlStore, agent: str, since: datetime, until: datetime | None, **kw) -> RunTotals:
    return RunTotals.of(
        s
        for s in store.run_samples(agent, since=since, **kw)
        if until is None or (s.ended_at is not None and s.ended_at < until)
    )


def _same(got: RunTotals, want: RunTotals) -> None:
    assert got.model_dump(exclude={"cost_usd", "other_cost_usd"}) == want.model_dump(
        exclude={"cost_usd", "other_cost_usd"}
    )
    assert got.cost_usd == pytest.approx(want.cost_usd)
    assert got.other_cost_usd == pytest.approx(want.other_cost_usd)


def test_any_window_reads_the_same_as_its_raw_runs(store: SqlStore) -> None:
    rng = random.Random(11)
    history = _history(rng, 400)
    for i in range(0, len(history), 97):  # batches, as the recorder sends them
        store.apply(history[i : i + 97])
    edges = [T0 + timedelta(seconds=rng.uniform(-600, 101 * 3600)) for _ in range(24)]
    edges += [T0 + timedelta(hours=3), T0 + timedelta(hours=7, minutes=30)]  # aligned ones
    edges += [T0 + timedelta(hours=14), T0 + timedelta(hours=38)]  # midnights
    for since in edges:
        for until in [
            None,
            since + timedelta(minutes=rng.uniform(0.1, 4)),
            since + timedelta(hours=rng.uniform(0.5, 60)),
        ]:
            for kw in ({}, {"spec_hash": "h2"}, {"mode": RunMode.LIVE}):
                _same(
                    store.run_totals("a", since=since, until=until, **kw),
                    _brute(store, "a", since, until, **kw),
                )


def test_a_replayed_batch_adds_nothing(store: SqlStore) -> None:
    history = _history(random.Random(3), 40)
    store.apply(history)
    once = store.run_totals("a", since=T0)
    store.apply(history)
    store.apply(history[::-1])
    assert store.run_totals("a", since=T0) == once
    _same(once, _brute(store, "a", T0, None))


def test_daily_series_sums_day_buckets(store: SqlStore) -> None:
    store.apply(_history(random.Random(5), 200))
    day = T0.replace(hour=0)
    series = store.run_totals_series("a", since=day, step=timedelta(days=1), count=5)
    for i, got in enumerate(series):
        start = day + timedelta(days=i)
        _same(got, _brute(store, "a", start, start + timedelta(days=1)))
    odd = store.run_totals_series(
        "a", since=T0 + timedelta(minutes=7), step=timedelta(hours=5), count=4
    )
    for i, got in enumerate(odd):
        start = T0 + timedelta(minutes=7) + timedelta(hours=5 * i)
        _same(got, _brute(store, "a", start, start + timedelta(hours=5)))


def test_tool_calls_recorded_after_the_run_ended_move_its_bucket(store: SqlStore) -> None:
    ended = T0 + timedelta(minutes=3)
    run = RunRecord(
        id="late",
        agent="a",
        spec_hash="h",
        status=RunStatus.RESOLVED,
        started_at=T0,
        ended_at=ended,
    )
    store.apply([RunRecorded(run=run)])
    assert store.run_totals("a", since=T0).tool_calls == 0
    late = ToolCallRecord(
        run_id="late", seq=1, tool="t", status=ToolCallStatus.DENIED, started_at=T0, ended_at=ended
    )
    store.apply([ToolCallRecorded(call=late)])
    got = store.run_totals("a", since=T0)
    assert (got.tool_calls, got.denied_calls) == (1, 1)
    store.apply([ToolCallRecorded(call=late)])  # a replay changes nothing
    assert store.run_totals("a", since=T0) == got


def test_reaped_runs_count_as_interrupted(store: SqlStore) -> None:
    run = RunRecord(id="stuck", agent="a", spec_hash="h", started_at=T0, heartbeat_at=T0)
    store.apply([RunRecorded(run=run)])
    store.mark_interrupted(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    got = store.run_totals("a", since=T0)
    assert (got.finished, got.errored) == (1, 1)


def test_a_rebuild_gives_what_the_writes_kept(store: SqlStore) -> None:
    store.apply(_history(random.Random(9), 150))
    before = [store.run_totals(a, since=T0 - timedelta(hours=1)) for a in ("a", "b")]
    assert store.rebuild_rollups() == 150
    after = [store.run_totals(a, since=T0 - timedelta(hours=1)) for a in ("a", "b")]
    for got, want in zip(after, before, strict=True):
        _same(got, want)
    assert store.rebuild_rollups("b") < 150
    _same(store.run_totals("b", since=T0 - timedelta(hours=1)), before[1])
