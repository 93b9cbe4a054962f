"""Per-agent call rates: a sliding 60-second window of call times per tool, in process.

Feeds the policy's ``rate_limit.per_minute`` rule. Counts are per process: several
processes running the same agent each enforce the limit on their own calls.
"""

from __future__ import annotations

import threading
from collections import deque

from warden.core.clock import Clock

__all__ = ["RateWindow"]


class RateWindow:
    """Call times per tool over the last ``window_s`` seconds (default 60).

    Args:
        clock: Time source (``monotonic``).
        tracked: Tool names to track (those with a per-minute limit); others cost nothing.
        window_s: Window length, seconds.
    """

    def __init__(self, clock: Clock, tracked: set[str], window_s: float = 60.0) -> None:
        self.clock = clock
        self.window_s = window_s
        self._calls: dict[str, deque[float]] = {name: deque() for name in tracked}
        self._lock = threading.Lock()

    def add(self, tool: str) -> None:
        """Count one call of ``tool`` now."""
        calls = self._calls.get(tool)
        if calls is not None:
            with self._lock:
                calls.append(self.clock.monotonic())

    def counts(self, tool: str) -> dict[str, int]:
        """``{tool: calls in the window}``, or ``{}`` when ``tool`` is not tracked."""
        calls = self._calls.get(tool)
        if calls is None:
            return {}
        with self._lock:
            horizon = self.clock.monotonic() - self.window_s
            while calls and calls[0] <= horizon:
                calls.popleft()
            return {tool: len(calls)}
