"""The per-minute rate window: call times per tracked tool over a sliding window, on the
injected clock."""

from __future__ import annotations

import threading

from warden.core.clock import FakeClock
from warden.runtime.ratelimit import RateWindow


def test_untracked_tools_cost_nothing(clock: FakeClock) -> None:
    window = RateWindow(clock, {"route_ticket"})
    window.add("lookup")
    assert window.counts("lookup") == {}


def test_tracked_tools_count_their_calls(clock: FakeClock) -> None:
    window = RateWindow(clock, {"route_ticket", "send_email"})
    assert window.counts("route_ticket") == {"route_ticket": 0}
    window.add("route_ticket")
    window.add("route_ticket")
    window.add("send_email")
    assert window.counts("route_ticket") == {"route_ticket": 2}
    assert window.counts("send_email") == {"send_email": 1}


def test_the_window_slides(clock: FakeClock) -> None:
    window = RateWindow(clock, {"t"})
    window.add("t")  # at 0 s
    clock.advance(30)
    window.add("t")  # at 30 s
    clock.advance(29.9)
    assert window.counts("t") == {"t": 2}
    clock.advance(0.1)  # 60 s: the first call leaves the window
    assert window.counts("t") == {"t": 1}
    clock.advance(30)
    assert window.counts("t") == {"t": 0}


def test_the_window_length_is_configurable(clock: FakeClock) -> None:
    window = RateWindow(clock, {"t"}, window_s=5)
    window.add("t")
    clock.advance(4)
    assert window.counts("t") == {"t": 1}
    clock.advance(1)
    assert window.counts("t") == {"t": 0}


def test_calls_from_many_threads_are_all_counted(clock: FakeClock) -> None:
    window = RateWindow(clock, {"t"})

    def burst() -> None:
        for _ in range(250):
            window.add("t")
            window.counts("t")

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert window.counts("t") == {"t": 1000}
