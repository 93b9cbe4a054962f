"""``control/retention.py``: each agent's retention comes from its spec, else the server's
default, else none; batches are bounded; the monitor works a backlog off over passes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from warden.control.monitor import monitor_once
from warden.control.retention import prune
from warden.control.scope import apply_spec
from warden.core.events import RunRecorded
from warden.core.runs import RunFilter, RunRecord, RunStatus


def _runs(store, clock, agent: str, days_ago: list[int]) -> None:
    now = clock.now()
    store.apply(
        [
            RunRecorded(
                run=RunRecord(
                    id=f"{agent}-{i}",
                    agent=agent,
                    spec_hash="h",
                    started_at=now - timedelta(days=d),
                    ended_at=now - timedelta(days=d),
                    status=RunStatus.RESOLVED,
                )
            )
            for i, d in enumerate(days_ago)
        ]
    )


def _left(store, agent: str) -> int:
    return len(store.list_runs(RunFilter(agent=agent, limit=1000)))


def test_the_spec_sets_the_retention_and_the_default_covers_the_rest(
    store, clock, spec_factory
) -> None:
    kept = spec_factory({}, retention={"raw_days": 30})
    apply_spec(store, kept, actor="alice", clock=clock)
    _runs(store, clock, kept.name, [1, 10, 31, 45, 90])
    _runs(store, clock, "no-retention", [1, 100, 400])
    results = {r.agent: r for r in prune(store, clock)}
    assert set(results) == {kept.name}  # the other has none: kept forever
    assert (results[kept.name].runs, results[kept.name].done) == (3, True)
    assert _left(store, kept.name) == 2
    by_default = {r.agent: r.runs for r in prune(store, clock, default_days=365)}
    assert by_default == {kept.name: 0, "no-retention": 1}
    forced = prune(store, clock, agents=["no-retention"], older_than_days=50)
    assert [r.runs for r in forced] == [1]


def test_the_monitor_removes_one_batch_per_agent_per_pass(store, clock) -> None:
    _runs(store, clock, "busy", list(range(40, 52)))
    from warden.control import retention

    original = retention.BATCH
    retention.BATCH = 5
    try:
        first = monitor_once(store, clock, None, retention_days=30)
        assert [(e.agent, e.kind) for e in first] == [("busy", "pruned")]
        assert "more next pass" in first[0].detail
        monitor_once(store, clock, None, retention_days=30)
        monitor_once(store, clock, None, retention_days=30)
    finally:
        retention.BATCH = original
    assert _left(store, "busy") == 0


def test_a_retention_under_an_hour_is_refused(store, clock) -> None:
    _runs(store, clock, "a", [1])
    with pytest.raises(ValueError, match="under an hour"):
        prune(store, clock, older_than_days=0.01)
    assert _left(store, "a") == 1
