"""Heartbeats: a process proves its runs are alive, so a dead process's runs can be found.

A daemon thread emits one ``RunHeartbeat`` for all active runs every ``interval_s``.
``mark_interrupted`` (called when a governor opens, and by ``warden runs reap``) ends as
``interrupted`` every running run whose heartbeat is older than ``stale_after_s``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from warden.core.clock import Clock
from warden.core.events import RunHeartbeat
from warden.core.ports import RuntimeStore
from warden.runtime.recorder import Recorder

__all__ = ["Heartbeat", "reap_interrupted"]


class Heartbeat:
    """Background heartbeat for the runs ``active()`` returns.

    Args:
        recorder: Where heartbeats go.
        clock: Time stamped on each heartbeat.
        active: Returns the ids of running runs.
        interval_s: Seconds between heartbeats (default 5).
    """

    def __init__(
        self,
        recorder: Recorder,
        clock: Clock,
        active: Callable[[], list[str]],
        *,
        interval_s: float = 5.0,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.active = active
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        """Start the thread if it is not running."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="warden-heartbeat", daemon=True)
            self._thread.start()

    def beat(self) -> None:
        """Emit one heartbeat now (no-op without active runs)."""
        ids = self.active()
        if ids:
            self.recorder.emit(RunHeartbeat(run_ids=ids, at=self.clock.now()))

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()


def reap_interrupted(store: RuntimeStore, clock: Clock, stale_after_s: float) -> list[str]:
    """End as ``interrupted`` the running runs with no heartbeat for ``stale_after_s`` seconds.

    Returns:
        Ids of the runs marked.
    """
    now = clock.now()
    return store.mark_interrupted(now - timedelta(seconds=stale_after_s), now)
