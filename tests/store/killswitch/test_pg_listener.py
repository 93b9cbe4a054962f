"""Kill-switch changes are pushed to other processes' stores on PostgreSQL (LISTEN/NOTIFY);
on SQLite there is nothing to push and the TTL read does the work."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import ON_POSTGRES
from warden.core.clock import SystemClock
from warden.runtime.killswitch import KillSwitch
from warden.store import SqlStore


def test_sqlite_has_no_push(store: SqlStore) -> None:
    if ON_POSTGRES:
        pytest.skip("SQLite only")
    assert store.watch_kill_switches(lambda agent: None) is None


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL only")
def test_a_change_is_pushed_to_a_listener_within_a_second(database_url: str) -> None:
    listener_store, flipper = SqlStore(database_url), SqlStore(database_url)
    got: list[tuple[str, float]] = []
    arrived = threading.Event()

    def on_change(agent: str) -> None:
        got.append((agent, time.monotonic()))
        arrived.set()

    stop = listener_store.watch_kill_switches(on_change)
    assert stop is not None
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not stop.__self__.listening.is_set():
            time.sleep(0.01)
        t0 = time.monotonic()
        flipper.set_kill_switch("a", engaged=True, reason="r", actor="x", at=SystemClock().now())
        assert arrived.wait(1.0)
        assert got[0][0] == "a"
        assert got[0][1] - t0 < 1.0
        arrived.clear()
        flipper.set_kill_switch(
            "a", engaged=True, reason="again", actor="x", at=SystemClock().now()
        )
        assert not arrived.wait(0.3)  # no change, no notification
    finally:
        stop()
        listener_store.close()
        flipper.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL only")
def test_a_long_ttl_cache_is_dropped_on_notify(database_url: str) -> None:
    worker_store, flipper = SqlStore(database_url), SqlStore(database_url)
    switch = KillSwitch(worker_store, "a", SystemClock(), ttl_s=60.0)
    switch.listen()
    try:
        assert switch._unlisten is not None
        listener = switch._unlisten.__self__
        assert listener.listening.wait(5)
        assert not switch.state().engaged  # cached for 60 s
        flipper.set_kill_switch("a", engaged=True, reason="r", actor="x", at=SystemClock().now())
        deadline = time.monotonic() + 1.0
        while not switch.state().engaged and time.monotonic() < deadline:
            time.sleep(0.005)
        assert switch.state().engaged
    finally:
        switch.close()
        worker_store.close()
        flipper.close()
