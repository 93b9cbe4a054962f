"""Injected time. Every window, timeout, budget-per-day and wait takes a ``Clock``.

A test or the demo passes a ``FakeClock`` and replays weeks of traffic in seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock", "utcnow"]


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of time.

    ``now`` is wall-clock time (UTC, aware) for records and daily windows; ``monotonic``
    is seconds for durations; ``sleep`` waits (a fake clock advances instead).
    """

    def now(self) -> datetime:
        """Current UTC time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock advances by that much instead)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()`` in seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to, or when something sleeps on it.

    Args:
        start: Initial UTC time (aware); default 2026-01-01T00:00:00Z.
        tick: Seconds added to the clock on every ``now()``/``monotonic()`` read, so that
            durations measured on a fake clock are not all zero (default 0).

    Thread-safe.
    """

    def __init__(self, start: datetime | None = None, *, tick: float = 0.0) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._start.tzinfo is None:
            raise ValueError("FakeClock start must be timezone-aware")
        self._elapsed = 0.0
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Start time plus elapsed fake seconds."""
        with self._lock:
            self._elapsed += self._tick
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        """Elapsed fake seconds."""
        with self._lock:
            self._elapsed += self._tick
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` at once."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must be >= 0)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._elapsed += seconds

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (not earlier than now)."""
        with self._lock:
            target = (when - self._start).total_seconds()
            if target < self._elapsed:
                raise ValueError("a clock cannot go backwards")
            self._elapsed = target
