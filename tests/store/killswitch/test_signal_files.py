"""Kill signals on SQLite: a kill takes effect before its row is written, is recorded
(row, event, audit entry) when the write lock frees up, and never outlives a later release.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES
from warden.control.killswitch import unkill
from warden.core.clock import FakeClock
from warden.errors import ConfigError, StoreUnavailable
from warden.store import SqlStore
from warden.store import base as store_base
from warden.store.killswitch.signal_files import KillSignals
from warden.store.tables import kill_switch_events

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="kill signals are SQLite only")


def _signals(store: SqlStore) -> KillSignals:
    assert store.sqlite_file is not None
    return KillSignals.beside(store.sqlite_file)


def _audit(store: SqlStore, agent: str = "a") -> list[tuple[str, str, str]]:
    return [(e.action, e.actor, e.reason) for e in store.list_audit(agent=agent)]


@pytest.fixture
def lock_holder(store: SqlStore):
    """A second connection that holds SQLite's write lock until ``release()``."""
    assert store.sqlite_file is not None
    conn = sqlite3.connect(store.sqlite_file, isolation_level=None, timeout=0)

    class Holder:
        def hold(self) -> None:
            conn.execute("BEGIN IMMEDIATE")

        def release(self) -> None:
            if conn.in_transaction:
                conn.execute("COMMIT")

    holder = Holder()
    yield holder
    holder.release()
    conn.close()


def test_a_kill_is_recorded_once_and_leaves_no_signal(store: SqlStore, clock: FakeClock) -> None:
    store.set_kill_switch("a", engaged=True, reason="spike", actor="dana", at=clock.now())
    store.set_kill_switch("a", engaged=True, reason="again", actor="eve", at=clock.now())
    state = store.get_kill_switch("a")
    assert (state.engaged, state.actor, state.reason) == (True, "dana", "spike")
    assert _audit(store) == [("kill_switch.engaged", "dana", "spike")]
    assert _signals(store).read("a") == []
    assert store.verify_audit().intact


def test_a_kill_that_cannot_be_recorded_stays_in_effect_until_the_next_change_records_it(
    store: SqlStore, database_url: str, clock: FakeClock, lock_holder, monkeypatch
) -> None:
    monkeypatch.setattr(store_base, "_LOCK_WAIT_S", 0.2)
    lock_holder.hold()
    with pytest.raises(StoreUnavailable, match="ENGAGED"):
        store.set_kill_switch("a", engaged=True, reason="spike", actor="dana", at=clock.now())
    worker = SqlStore(database_url, auto_migrate=False)
    try:
        seen = worker.get_kill_switch("a")  # another process's view: killed, by dana
        assert (seen.engaged, seen.actor, seen.reason) == (True, "dana", "spike")
        assert _audit(store) == []  # not recorded yet
        lock_holder.release()
        clock.advance(60)
        asked = unkill(store, "a", actor="bob", reason="fixed", clock=clock)
        assert asked.pending is not None
        assert _audit(store) == [
            ("kill_switch.engaged", "dana", "spike"),  # recorded first, as dana's act
            ("kill_switch.release_requested", "bob", "fixed"),
        ]
        assert _signals(store).read("a") == []
        clock.advance(60)
        done = unkill(store, "a", actor="carol", reason="agreed", clock=clock)
        assert not done.state.engaged
        assert not worker.get_kill_switch("a").engaged
    finally:
        worker.close()
    assert store.verify_audit().intact


def test_running_the_kill_again_records_it(
    store: SqlStore, clock: FakeClock, lock_holder, monkeypatch
) -> None:
    monkeypatch.setattr(store_base, "_LOCK_WAIT_S", 0.2)
    lock_holder.hold()
    with pytest.raises(StoreUnavailable):
        store.set_kill_switch("a", engaged=True, reason="first", actor="dana", at=clock.now())
    lock_holder.release()
    clock.advance(5)
    state = store.set_kill_switch("a", engaged=True, reason="retry", actor="dana", at=clock.now())
    assert (state.engaged, state.reason) == (True, "first")  # the first kill's reason stays
    assert _audit(store) == [("kill_switch.engaged", "dana", "first")]
    assert _signals(store).read("a") == []


def test_a_leftover_signal_is_recorded_then_released_by_a_later_release(
    store: SqlStore, clock: FakeClock
) -> None:
    t0 = clock.now()
    _signals(store).write("a", reason="crashed kill", actor="dana", at=t0)  # its row never came
    assert store.get_kill_switch("a").engaged
    store.set_kill_switch(
        "a", engaged=False, reason="drill over", actor="warden", at=t0 + timedelta(seconds=1)
    )
    assert not store.get_kill_switch("a").engaged
    assert _audit(store) == [
        ("kill_switch.engaged", "dana", "crashed kill"),
        ("kill_switch.released", "warden", "drill over"),
    ]
    assert _signals(store).read("a") == []


def test_a_kill_issued_after_a_release_outlives_it(store: SqlStore, clock: FakeClock) -> None:
    t0 = clock.now()
    store.set_kill_switch("a", engaged=True, reason="spike", actor="dana", at=t0)
    store.request_release("a", actor="bob", reason="fixed", at=t0 + timedelta(seconds=10))
    # eve kills again at t+30 and her row waits for the lock; carol's approval, issued at
    # t+20, gets the lock first.
    _signals(store).write("a", reason="not fixed", actor="eve", at=t0 + timedelta(seconds=30))
    released = store.approve_release("a", actor="carol", reason="ok", at=t0 + timedelta(seconds=20))
    assert not released.engaged  # the row
    state = store.get_kill_switch("a")  # what every process sees: eve's later kill
    assert (state.engaged, state.actor, state.reason) == (True, "eve", "not fixed")
    store.set_kill_switch(
        "a", engaged=True, reason="not fixed", actor="eve", at=t0 + timedelta(seconds=30)
    )
    assert [a for a, _, _ in _audit(store)][-1] == "kill_switch.engaged"
    assert _signals(store).read("a") == []
    assert store.get_kill_switch("a").reason == "not fixed"


def test_a_signal_from_before_the_last_change_is_not_live(
    store: SqlStore, clock: FakeClock
) -> None:
    t0 = clock.now()
    store.set_kill_switch("a", engaged=True, reason="r", actor="eve", at=t0 + timedelta(hours=1))
    store.set_kill_switch("a", engaged=False, reason="ok", actor="eve", at=t0 + timedelta(hours=2))
    # A signal whose row was written but whose file was left behind (a crash after commit).
    _signals(store).write("a", reason="old", actor="dana", at=t0 + timedelta(hours=1))
    assert not store.get_kill_switch("a").engaged
    # The next change deletes it without recording it again.
    store.set_kill_switch("a", engaged=False, reason="x", actor="eve", at=t0 + timedelta(hours=3))
    assert _signals(store).read("a") == []
    assert [a for a, _, _ in _audit(store)] == ["kill_switch.engaged", "kill_switch.released"]


def test_an_unreadable_signal_counts_as_a_kill(store: SqlStore) -> None:
    directory = _signals(store).directory
    directory.mkdir(parents=True)
    (directory / "a+garbage.json").write_text("{not json")
    state = store.get_kill_switch("a")
    assert (state.engaged, state.actor) == (True, "unknown")
    assert not store.get_kill_switch("ab").engaged  # another agent's prefix


def test_signals_of_one_agent_do_not_touch_another(store: SqlStore, clock: FakeClock) -> None:
    _signals(store).write("a", reason="r", actor="x", at=clock.now())
    assert store.get_kill_switch("a").engaged
    for other in ("a.b", "a-b", "ab", "b"):
        assert not store.get_kill_switch(other).engaged


def test_the_row_unreadable_with_a_signal_is_killed_and_without_one_is_an_outage(
    store: SqlStore, clock: FakeClock, monkeypatch
) -> None:
    def down() -> None:
        raise StoreUnavailable("store unreachable: disk I/O error")

    monkeypatch.setattr(store, "_tx", down)
    with pytest.raises(StoreUnavailable):
        store.get_kill_switch("a")
    _signals(store).write("a", reason="spike", actor="dana", at=clock.now())
    assert store.get_kill_switch("a").engaged  # fail safe: never live without an answer


def test_a_signal_directory_that_cannot_be_listed_is_an_outage(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = _signals(store).directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("not a directory")  # scandir fails with NotADirectoryError
    with pytest.raises(StoreUnavailable, match="cannot be read"):
        store.get_kill_switch("a")


def test_a_naive_time_is_refused_before_any_signal_is_written(store: SqlStore) -> None:
    from datetime import datetime

    with pytest.raises(ConfigError):
        store.set_kill_switch("a", engaged=True, reason="r", actor="x", at=datetime(2026, 1, 1))
    assert _signals(store).read("a") == []
    assert not store.get_kill_switch("a").engaged


def test_the_kill_history_keeps_one_event_per_real_change(
    store: SqlStore, clock: FakeClock, lock_holder, monkeypatch
) -> None:
    monkeypatch.setattr(store_base, "_LOCK_WAIT_S", 0.2)
    lock_holder.hold()
    with pytest.raises(StoreUnavailable):
        store.set_kill_switch("a", engaged=True, reason="r1", actor="x", at=clock.now())
    lock_holder.release()
    store.set_kill_switch("a", engaged=True, reason="r2", actor="y", at=clock.now())
    with store.engine.connect() as conn:
        reasons = conn.execute(sa.select(kill_switch_events.c.reason)).scalars().all()
    assert reasons == ["r1"]


def test_signals_live_beside_the_database(store: SqlStore, tmp_path: Path, clock) -> None:
    assert _signals(store).directory == tmp_path / "warden.db-control" / "kill-signals"


def test_a_kill_is_recorded_even_when_its_signal_cannot_be_written_or_read(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = _signals(store).directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("not a directory")
    store.set_kill_switch("a", engaged=True, reason="spike", actor="dana", at=clock.now())
    assert _audit(store) == [("kill_switch.engaged", "dana", "spike")]
    with pytest.raises(StoreUnavailable):  # a switch that cannot be read is never live
        store.get_kill_switch("a")
    with pytest.raises(StoreUnavailable):  # nor released blind
        store.request_release("a", actor="bob", reason="fixed", at=clock.now())
