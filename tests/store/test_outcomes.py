"""Shadow outcomes on the database under test: one per run (the latest wins), agreement per
spec version, and the newest run of a routing key."""

from __future__ import annotations

from datetime import timedelta

from warden.core.agreement import AgentAction, Outcome
from warden.core.clock import FakeClock
from warden.core.events import RunRecorded
from warden.core.runs import RunMode, RunRecord
from warden.store import SqlStore


def _outcome(clock: FakeClock, run_id: str, spec_hash: str, *, agreed: bool, **fields) -> Outcome:
    action = AgentAction(tool="route_ticket", arguments={"queue": "cards"})
    base = {
        "run_id": run_id,
        "agent": "a",
        "spec_hash": spec_hash,
        "spec_version": spec_hash[1:],
        "mode": RunMode.SHADOW,
        "human": [action],
        "proposed": [action] if agreed else [],
        "agreed": agreed,
        "actor": "dana",
        "run_started_at": clock.now(),
        "recorded_at": clock.now(),
    }
    return Outcome(**(base | fields))


def test_a_later_outcome_of_a_run_replaces_the_first(store: SqlStore, clock: FakeClock) -> None:
    store.save_outcome(_outcome(clock, "r1", "h1", agreed=False))
    fixed = store.save_outcome(_outcome(clock, "r1", "h1", agreed=True))
    assert store.get_outcome("r1") == fixed
    assert store.get_outcome("r2") is None
    [rate] = store.agreement("a")
    assert (rate.agreed, rate.compared) == (1, 1)


def test_agreement_is_counted_per_spec_version_and_mode(store: SqlStore, clock: FakeClock) -> None:
    store.save_outcome(_outcome(clock, "r1", "h1", agreed=True))
    store.save_outcome(_outcome(clock, "r2", "h1", agreed=False))
    clock.advance(3600)
    store.save_outcome(_outcome(clock, "r3", "h2", agreed=True))
    store.save_outcome(_outcome(clock, "r4", "h2", agreed=False, mode=RunMode.LIVE))
    rates = store.agreement("a")
    assert [(r.spec_hash, r.spec_version, r.agreed, r.compared) for r in rates] == [
        ("h1", "1", 1, 2),
        ("h2", "2", 1, 1),
    ]
    assert [r.compared for r in store.agreement("a", mode=None, spec_hash="h2")] == [2]
    assert [r.spec_hash for r in store.agreement("a", since=clock.now())] == ["h2"]
    assert store.agreement("b") == []


def test_the_newest_run_of_a_routing_key(store: SqlStore, clock: FakeClock) -> None:
    def run(run_id: str, minutes: int, mode: RunMode) -> RunRecord:
        return RunRecord(
            id=run_id,
            agent="a",
            spec_hash="h",
            routing_key="ticket-7",
            mode=mode,
            started_at=clock.now() + timedelta(minutes=minutes),
        )

    store.apply(
        [
            RunRecorded(run=run("r1", 0, RunMode.SHADOW)),
            RunRecorded(run=run("r2", 1, RunMode.LIVE)),
        ]
    )
    newest = store.latest_run_for_key("a", "ticket-7")
    assert newest is not None and newest.id == "r2"
    shadow = store.latest_run_for_key("a", "ticket-7", RunMode.SHADOW)
    assert shadow is not None and shadow.id == "r1"
    assert store.latest_run_for_key("a", "ticket-8") is None
