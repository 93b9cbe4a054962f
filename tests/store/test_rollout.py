"""Rollout state in the store: compare-and-set with one winner, transitions, audit entries."""

from __future__ import annotations

import json
import threading

import pytest

from warden.control.rollout import change_stage
from warden.core.clock import FakeClock
from warden.core.rollout import RolloutAction, RolloutState, RolloutTransition, Stage
from warden.errors import TransitionConflict
from warden.store import SqlStore


def start(store: SqlStore, clock: FakeClock, agent: str = "a") -> RolloutState:
    now = clock.now()
    state = RolloutState(
        agent=agent,
        stage=Stage.SHADOW,
        spec_hash="h1",
        spec_version="1.0",
        stage_since=now,
        updated_at=now,
        updated_by="warden",
        reason="start",
    )
    return store.save_rollout(
        state,
        expected_version=None,
        transition=RolloutTransition(
            agent=agent,
            version=1,
            action=RolloutAction.START,
            from_stage=None,
            to_stage=Stage.SHADOW,
            spec_hash="h1",
            actor="warden",
            reason="start",
            at=now,
        ),
    )


def test_a_transition_is_recorded_with_actor_reason_and_before_after(
    store: SqlStore, clock: FakeClock
) -> None:
    start(store, clock)
    clock.advance(3600)
    after = change_stage(
        store, "a", RolloutAction.ADVANCE, actor="alice", reason="gate passed", clock=clock
    )
    assert (after.stage, after.version, after.updated_by) == (Stage.CANARY, 2, "alice")
    assert after.stage_since == clock.now()
    assert store.get_rollout("a") == after
    moves = store.list_rollout_transitions("a")
    assert [(m.action, m.from_stage, m.to_stage, m.actor) for m in moves] == [
        (RolloutAction.START, None, Stage.SHADOW, "warden"),
        (RolloutAction.ADVANCE, Stage.SHADOW, Stage.CANARY, "alice"),
    ]
    entry = store.list_audit(agent="a")[-1]
    assert (entry.action, entry.actor, entry.reason) == ("rollout.advance", "alice", "gate passed")
    assert json.loads(entry.before)["stage"] == "shadow"
    assert json.loads(entry.after)["stage"] == "canary"
    assert store.verify_audit().intact


def test_a_stale_version_is_refused(store: SqlStore, clock: FakeClock) -> None:
    start(store, clock)
    change_stage(store, "a", RolloutAction.ADVANCE, actor="alice", reason="r", clock=clock)
    with pytest.raises(TransitionConflict, match="version 2, not 1"):
        change_stage(
            store,
            "a",
            RolloutAction.ROLLBACK,
            actor="bob",
            reason="r",
            clock=clock,
            expected_version=1,
        )
    with pytest.raises(TransitionConflict, match="already has a rollout"):
        start(store, clock)


def test_concurrent_transitions_leave_exactly_one_winner(
    database_url: str, clock: FakeClock
) -> None:
    stores = [SqlStore(database_url) for _ in range(8)]
    start(stores[0], clock)
    seen = stores[0].get_rollout("a")
    assert seen is not None
    barrier = threading.Barrier(len(stores))
    won: list[str] = []
    lost: list[str] = []
    other: list[BaseException] = []

    def act(i: int, s: SqlStore) -> None:
        action = RolloutAction.ADVANCE if i % 2 else RolloutAction.ROLLBACK
        barrier.wait()
        try:
            change_stage(
                s,
                "a",
                action,
                actor=f"owner-{i}",
                reason=action.value,
                clock=clock,
                expected_version=seen.version,  # each acts on what it saw
            )
            won.append(f"owner-{i}")
        except TransitionConflict:
            lost.append(f"owner-{i}")
        except BaseException as exc:
            other.append(exc)

    threads = [threading.Thread(target=act, args=(i, s)) for i, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert other == []
        assert len(won) == 1, won
        assert len(lost) == len(stores) - 1
        final = stores[0].get_rollout("a")
        assert final is not None
        assert (final.version, final.updated_by) == (2, won[0])  # the winner's change, not lost
        assert len(stores[0].list_rollout_transitions("a")) == 2
        assert [e.actor for e in stores[0].list_audit(agent="a")] == ["warden", won[0]]
    finally:
        for s in stores:
            s.close()
