"""The rollout controller: start, advance, roll back, restart a gate; and route each run.

Every change goes through ``Store.save_rollout`` (compare-and-set on the state's
``version``, with a transition record and an audit entry in the same transaction). The
``Router`` reads the state and the kill switch with a short TTL, as the kill switch does,
and routes each new run (``core.rollout.route``); when the state cannot be read the run
takes the fallback, never live.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from warden.core.clock import Clock
from warden.core.rollout import (
    RolloutAction,
    RolloutState,
    RolloutTransition,
    Route,
    Stage,
    next_stage,
    route,
)
from warden.core.runs import RunMode
from warden.core.spec import AgentSpec
from warden.core.store import Store
from warden.errors import ControlError, StoreUnavailable, TransitionConflict
from warden.runtime.killswitch import KillSwitch

__all__ = ["Router", "change_stage", "ensure_rollout"]

log = logging.getLogger("warden.rollout")

SYSTEM_ACTOR = "warden"
"""Actor recorded for changes Warden makes on its own."""


def _transition(
    state: RolloutState, action: RolloutAction, before: Stage | None, actor: str
) -> RolloutTransition:
    return RolloutTransition(
        agent=state.agent,
        version=state.version,
        action=action,
        from_stage=before,
        to_stage=state.stage,
        spec_hash=state.spec_hash,
        actor=actor,
        reason=state.reason,
        at=state.updated_at,
    )


def ensure_rollout(
    store: Store, spec: AgentSpec, spec_hash: str, clock: Clock
) -> RolloutState | None:
    """Start the rollout of an agent with a plan (in shadow), or restart the gate of its
    current stage when ``spec_hash`` is a new version. No-op without a plan.

    Returns:
        The rollout state, or None when the spec has no rollout plan and none is stored.

    Raises:
        StoreUnavailable: The store cannot be reached.
    """
    for _ in range(5):  # another process may be doing the same: re-read and retry
        current = store.get_rollout(spec.name)
        if spec.spec.rollout is None or (current is not None and current.spec_hash == spec_hash):
            return current
        now = clock.now()
        if current is None:
            state = RolloutState(
                agent=spec.name,
                stage=Stage.SHADOW,
                spec_hash=spec_hash,
                spec_version=spec.metadata.version,
                stage_since=now,
                version=1,
                updated_at=now,
                updated_by=SYSTEM_ACTOR,
                reason="first use of an agent with a rollout plan: it starts in shadow",
            )
            action, before = RolloutAction.START, None
        else:
            state = current.model_copy(
                update={
                    "spec_hash": spec_hash,
                    "spec_version": spec.metadata.version,
                    "stage_since": now,
                    "version": current.version + 1,
                    "updated_at": now,
                    "updated_by": SYSTEM_ACTOR,
                    "reason": f"spec version {spec.metadata.version} ({spec_hash[:12]}) replaced "
                    f"{current.spec_version} ({current.spec_hash[:12]}): the gate of "
                    f"{current.stage.value} starts again",
                }
            )
            action, before = RolloutAction.RESTART_GATE, current.stage
        try:
            return store.save_rollout(
                state,
                expected_version=current.version if current else None,
                transition=_transition(state, action, before, SYSTEM_ACTOR),
            )
        except TransitionConflict:
            continue
    return store.get_rollout(spec.name)


def change_stage(
    store: Store,
    agent: str,
    action: RolloutAction,
    *,
    actor: str,
    reason: str,
    clock: Clock,
    expected_version: int | None = None,
    check: Callable[[RolloutState, Stage], None] | None = None,
) -> RolloutState:
    """Advance or roll back ``agent``'s rollout.

    Args:
        store: The store.
        agent: Agent name.
        action: ``advance`` or ``rollback``.
        actor: Who (recorded).
        reason: Why (recorded).
        clock: Time of the change.
        expected_version: The version the actor looked at; when given and the rollout has
            moved on since, the change is refused (``TransitionConflict``).
        check: Called with the current state and the target stage before advancing;
            raises to refuse (the gate, ``runtime.gates.gate_check``). Rollbacks need none.

    Raises:
        ControlError: No rollout, or the action is impossible from the current stage.
        GateNotPassed: ``check`` refused.
        TransitionConflict: Someone else changed the rollout first.
    """
    current = store.get_rollout(agent)
    if current is None:
        raise ControlError(f"{agent} has no rollout (its spec has no rollout plan, or never ran)")
    if expected_version is not None and current.version != expected_version:
        raise TransitionConflict(
            f"the rollout of {agent} is at version {current.version}, not {expected_version}: "
            "someone changed it; look again"
        )
    target = next_stage(current.stage, action)
    if check is not None and action is RolloutAction.ADVANCE:
        check(current, target)
    now = clock.now()
    state = current.model_copy(
        update={
            "stage": target,
            "stage_since": now,
            "version": current.version + 1,
            "updated_at": now,
            "updated_by": actor,
            "reason": reason,
        }
    )
    return store.save_rollout(
        state,
        expected_version=current.version,
        transition=_transition(state, action, current.stage, actor),
    )


class Router:
    """Routes new runs of one agent from its rollout state and kill switch.

    Args:
        store: The store.
        spec: The agent spec (its ``rollout`` plan).
        kill_switch: The governor's cached kill switch.
        clock: Time source for the cache.
        ttl_s: Seconds a read of the rollout state is trusted (default 0.25).
        standing: Returns None when this spec version may run, else why not
            (``runtime.scope.version_standing``); checked every ``standing_ttl_s``.
        standing_ttl_s: Seconds its answer is trusted (default 5).
    """

    def __init__(
        self,
        store: Store,
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
