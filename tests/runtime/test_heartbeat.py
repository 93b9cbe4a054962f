"""Heartbeats: one event for every active run, from a background thread; and reaping the
runs of a process that stopped beating."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from warden.core.clock import FakeClock
from warden.core.events import Event, RunHeartbeat
from warden.runtime.heartbeat import Heartbeat, reap_interrupted


class _Recorder:
    def __init__(self) -> None:
        self.emitted: list[Event] = []
        self.beat = threading.Event()

    def emit(self, event: Event) -> None:
        self.emitted.append(event)
        self.beat.set()


def test_a_beat_covers_every_active_run(clock: FakeClock) -> None:
    recorder = _Recorder()
    active = ["run_1", "run_2"]
    Heartbeat(recorder, clock, lambda: list(active)).beat()
    assert recorder.emitted == [RunHeartbeat(run_ids=["run_1", "run_2"], at=clock.now())]


def test_no_active_runs_no_beat(clock: FakeClock) -> None:
    recorder = _Recorder()
    Heartbeat(recorder, clock, list).beat()
    assert recorder.emitted == []


def test_the_thread_beats_every_interval_until_stopped(clock: FakeClock) -> None:
    recorder = _Recorder()
    heartbeat = Heartbeat(recorder, clock, lambda: ["run_1"], interval_s=0.01)
    heartbeat.ensure_started()
    first = heartbeat._thread
    heartbeat.ensure_started()  # once per heartbeat
    assert heartbeat._thread is first
    try:
        assert recorder.beat.wait(2), "no heartbeat from the thread"
    finally:
        heartbeat.stop()
    assert first is not None
    first.join(2)
    assert not first.is_alive()
    assert all(isinstance(e, RunHeartbeat) for e in recorder.emitted)


def test_reaping_marks_runs_silent_for_stale_after_s(clock: FakeClock) -> None:
    asked: list[tuple[datetime, datetime]] = []

    class _Store:
        def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
            asked.append((stale_before, at))
            return ["run_dead"]

    clock.advance(3600)
    assert reap_interrupted(_Store(), clock, stale_after_s=30) == ["run_dead"]
    assert asked == [(clock.now() - timedelta(seconds=30), clock.now())]
