"""The kill switch: read from the store with a short TTL, checked at run start and
before every call (tool or model), and while a run waits for an approval.

The state lives in the store, so flipping it in one process (``warden kill``) reaches
every process on the same store within ``ttl_s`` plus one read. On PostgreSQL each
process also ``LISTEN``s for changes (``listen``) and drops its cached state the moment a
change is committed; the TTL read stays as the fallback. On SQLite a kill first writes a
kill signal file that the store's read includes. The kill then reaches every process
within ``ttl_s`` even while other processes keep the database's write lock busy, and its
row and audit entry follow (``warden.store.killswitch.signal_files``).

If the store cannot be read, the last state read within ``grace_s`` is used (a blip of
the database does not stop every run; write tools fail closed on their own). Past the
grace period, or with no state ever read, checks raise ``StoreUnavailable``: the run does
not start or does not go on. It is never treated as live without a recent answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from warden.core.clock import Clock
from warden.core.killswitch import KillSwitchState
from warden.core.ports import RuntimeStore
from warden.errors import KillSwitchEngaged, StoreUnavailable

__all__ = ["KillSwitch"]


class KillSwitch:
    """Cached view of one agent's kill switch.

    Args:
        store: The store holding the switch.
        agent: Agent name.
        clock: Time source for the cache.
        ttl_s: Seconds a read is trusted (default 0.25 s).
        grace_s: Seconds the last read is used while the store is unreachable (default 5 s).
    """

    def __init__(
        self,
        store: RuntimeStore,
        agent: str,
        clock: Clock,
        *,
        ttl_s: float = 0.25,
        grace_s: float = 5.0,
    ) -> None:
        self.store = store
        self.agent = agent
        self.clock = clock
        self.ttl_s = ttl_s
        self.grace_s = grace_s
        self._state: KillSwitchState | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self._unlisten: Callable[[], None] | None = None

    def listen(self) -> None:
        """Drop the cached state when the store pushes a change for this agent (no-op when
        the store cannot push, or is unreachable)."""
        try:
            self._unlisten = self.store.watch_kill_switches(self._changed)
        except StoreUnavailable:
            self._unlisten = None

    def _changed(self, agent: str) -> None:
        if agent == self.agent:
            self._read_at = float("-inf")

    def close(self) -> None:
        """Stop listening."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def state(self, *, fresh: bool = False) -> KillSwitchState:
        """The switch, from cache when younger than ``ttl_s`` (or from the store if ``fresh``).

        Raises:
            StoreUnavailable: The store cannot be read and no state was read within
                ``grace_s``.
        """
        now = self.clock.monotonic()
        cached = self._state
        if not fresh and cached is not None and now - self._read_at < self.ttl_s:
            return cached
        with self._lock:
            try:
                state = self.store.get_kill_switch(self.agent)
            except StoreUnavailable as exc:
                if cached is not None and now - self._read_at < self.grace_s:
                    return cached
                raise StoreUnavailable(
                    f"the kill switch of {self.agent} cannot be read, so the run does not go on: "
                    f"{exc.message}"
                ) from exc
            self._state, self._read_at = state, now
            return state

    def check(self, *, fresh: bool = False) -> None:
        """Raise ``KillSwitchEngaged`` if the switch is on.

        Raises:
            KillSwitchEngaged: The switch is engaged.
            StoreUnavailable: The switch cannot be read (see ``state``).
        """
        state = self.state(fresh=fresh)
        if state.engaged:
            raise KillSwitchEngaged(self.agent, state.reason or "no reason given")
