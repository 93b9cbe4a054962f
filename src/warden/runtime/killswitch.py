"""The kill switch: read from the store with a short TTL, checked at run start and
before every call (tool or model), and while a run waits for an approval.

The state lives in the store, so flipping it in one process (``warden kill``) reaches
every process on the same store within ``ttl_s`` plus one read. If the state cannot be
read, the switch counts as engaged: fail safe, never live.
"""

from __future__ import annotations

import threading

from warden.core.clock import Clock
from warden.core.runs import KillSwitchState
from warden.core.store import Store
from warden.errors import KillSwitchEngaged, StoreUnavailable
from warden.runtime.interceptors import CallContext, Proceed

__all__ = ["KillSwitch", "KillSwitchGate"]


class KillSwitch:
    """Cached view of one agent's kill switch.

    Args:
        store: The store holding the switch.
        agent: Agent name.
        clock: Time source for the cache.
        ttl_s: Seconds a read is trusted (default 0.25 s).
    """

    def __init__(self, store: Store, agent: str, clock: Clock, *, ttl_s: float = 0.25) -> None:
        self.store = store
        self.agent = agent
        self.clock = clock
        self.ttl_s = ttl_s
        self._state: KillSwitchState | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def state(self, *, fresh: bool = False) -> KillSwitchState:
        """The switch, from cache when younger than ``ttl_s`` (or from the store if ``fresh``).

        When the store cannot be read, returns an engaged state (fail safe).
        """
        now = self.clock.monotonic()
        cached = self._state
        if not fresh and cached is not None and now - self._read_at < self.ttl_s:
            return cached
        with self._lock:
            try:
                state = self.store.get_kill_switch(self.agent)
            except StoreUnavailable as exc:
                return KillSwitchState(
                    agent=self.agent,
                    engaged=True,
                    reason=f"kill switch state unreadable, failing safe: {exc.message}",
                    actor="warden",
                )
            self._state, self._read_at = state, now
            return state

    def check(self, *, fresh: bool = False) -> None:
        """Raise ``KillSwitchEngaged`` if the switch is on.

        Raises:
            KillSwitchEngaged: The switch is engaged (or unreadable).
        """
        state = self.state(fresh=fresh)
        if state.engaged:
            raise KillSwitchEngaged(self.agent, state.reason or "no reason given")


class KillSwitchGate:
    """Interceptor: no call proceeds while the kill switch is on."""

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Check the switch, then proceed."""
        ctx.run.kill_switch.check()
        return proceed(ctx)
