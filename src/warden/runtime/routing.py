"""Routing: which mode each new run takes, and the version this process enrolls.

When a governor opens, it enrolls its spec version in the agent's rollout
(``RuntimeStore.enroll_version``: a first version starts in shadow; a new version restarts
the gate of the current stage). The ``Router`` then reads the rollout state and the kill switch with a short TTL, as the
kill switch does, and routes each new run (``core.rollout.route``); when the state cannot
be read the run takes the fallback, never live. ``version_standing`` says whether this
spec version is the one in force (``warden spec apply``); a version that is not routes
every run to the fallback. Stage changes by people live in ``warden.control.rollout``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from warden.core.clock import Clock
from warden.core.ports import RuntimeStore
from warden.core.rollout import (
    RolloutState,
    Route,
    route,
)
from warden.core.runs import RunMode
from warden.core.scope import ChangeStatus
from warden.core.spec import AgentSpec
from warden.errors import StoreUnavailable
from warden.runtime.killswitch import KillSwitch

__all__ = ["Router", "version_standing"]

log = logging.getLogger("warden.rollout")


class Router:
    """Routes new runs of one agent from its rollout state and kill switch.

    Args:
        store: The store.
        spec: The agent spec (its ``rollout`` plan).
        kill_switch: The governor's cached kill switch.
        clock: Time source for the cache.
        ttl_s: Seconds a read of the rollout state is trusted (default 0.25).
        standing: Returns None when this spec version may run, else why not
            (``version_standing``); checked every ``standing_ttl_s``.
        standing_ttl_s: Seconds its answer is trusted (default 5).
    """

    def __init__(
        self,
        store: RuntimeStore,
        spec: AgentSpec,
        kill_switch: KillSwitch,
        clock: Clock,
        *,
        ttl_s: float = 0.25,
        standing: Callable[[], str | None] | None = None,
        standing_ttl_s: float = 5.0,
    ) -> None:
        self.store = store
        self.spec = spec
        self.kill_switch = kill_switch
        self.clock = clock
        self.ttl_s = ttl_s
        self._state: RolloutState | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self._standing = standing
        self._standing_ttl_s = standing_ttl_s
        self._why_not: str | None = None
        self._standing_at = float("-inf")

    def why_not(self) -> str | None:
        """None when this spec version may run, else why not (cached; on a store error the
        last answer stands)."""
        if self._standing is None:
            return None
        now = self.clock.monotonic()
        if now - self._standing_at >= self._standing_ttl_s:
            try:
                self._why_not = self._standing()
                self._standing_at = now
            except StoreUnavailable as exc:
                log.warning("cannot check the spec version's standing: %s", exc)
        return self._why_not

    def state(self) -> RolloutState | None:
        """The rollout state, from cache when younger than ``ttl_s``.

        Raises:
            StoreUnavailable: The store cannot be read.
        """
        now = self.clock.monotonic()
        if now - self._read_at < self.ttl_s:
            return self._state
        with self._lock:
            state = self.store.get_rollout(self.spec.name)
            self._state, self._read_at = state, now
            return state

    def route(self, routing_key: str | None, run_id: str) -> Route:
        """How to run a new run; the fallback when the state cannot be read."""
        plan = self.spec.spec.rollout
        why_not = self.why_not()
        if why_not is not None:
            return Route(
                mode=RunMode.FALLBACK,
                reason=why_not,
                fallback=plan.fallback if plan is not None else "human_queue",
            )
        try:
            kill = self.kill_switch.state()
            state = self.state() if plan is not None else None
        except StoreUnavailable as exc:
            log.warning("rollout state unreadable, run %s falls back: %s", run_id, exc)
            return Route(
                mode=RunMode.FALLBACK,
                reason=f"the rollout state cannot be read, so the run is not live ({exc.message})",
                fallback=plan.fallback if plan is not None else "human_queue",
            )
        return route(self.spec.name, plan, state, kill, routing_key, run_id)


def version_standing(store: RuntimeStore, agent: str, spec_hash: str) -> str | None:
    """None when this spec version may run; else why not, in plain words.

    An agent that never used ``warden spec apply`` runs whatever spec it is given.
    """
    current = store.current_spec_change(agent)
    if current is None or current.to_hash == spec_hash:
        return None
    mine = [c for c in store.find_spec_changes(spec_hash) if c.agent == agent]
    if any(c.status is ChangeStatus.PENDING for c in mine):
        return (
            f"spec version {spec_hash[:12]} is an expansion waiting for another owner's "
            f"approval (warden spec approve {spec_hash[:12]})"
        )
    return (
        f"spec version {spec_hash[:12]} is not the version in force "
        f"({current.version}, {current.to_hash[:12]})"
    )
