"""Rollout stages, transitions between them, and how a run is routed at each stage.

An agent with a ``rollout`` plan in its spec moves ``shadow -> canary -> live``. Two
stages stop it: ``rolled_back`` (an owner's ``warden rollout rollback``, or a kill
criterion with ``action: rollback``) and ``paused``, which is the kill switch: while the
switch is on the agent is ``paused`` whatever its stage, and it resumes that stage when the
switch is released. ``advance`` from ``rolled_back`` starts again in ``shadow``.

The state is per agent and names the spec version (content hash) being rolled out and
when its stage's gate started. A new spec version restarts the gate of the current stage
(the stage stays; its clock and its samples start again), as Argo Rollouts and Flagger
restart the analysis when what is being released changes.

Changes are compare-and-set on ``version``: of two owners advancing at once, one wins and
the other gets ``TransitionConflict``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.core.killswitch import KillSwitchState
from warden.core.runs import RunMode
from warden.core.spec import Rollout
from warden.core.traffic import in_slice
from warden.errors import ControlError

__all__ = [
    "SYSTEM_ACTOR",
    "RolloutAction",
    "RolloutState",
    "RolloutTransition",
    "Route",
    "Stage",
    "effective_stage",
    "enrollment",
    "next_stage",
    "route",
    "transition_to",
]


class Stage(StrEnum):
    """Where an agent is in its rollout."""

    SHADOW = "shadow"
    """Runs propose writes; people act; agreement is measured."""
    CANARY = "canary"
    """A sticky slice of routing keys runs live; the rest fall back."""
    LIVE = "live"
    """Every run is live."""
    PAUSED = "paused"
    """The kill switch is on: every run falls back (derived, never stored)."""
    ROLLED_BACK = "rolled_back"
    """Taken out of service: every run falls back until it starts again in shadow."""


class RolloutAction(StrEnum):
    """What moved the rollout."""

    START = "start"
    """First seen with a rollout plan: enters shadow."""
    ADVANCE = "advance"
    ROLLBACK = "rollback"
    RESTART_GATE = "restart_gate"
    """A new spec version: same stage, its gate starts again."""


_NEXT: dict[Stage, Stage] = {
    Stage.SHADOW: Stage.CANARY,
    Stage.CANARY: Stage.LIVE,
    Stage.ROLLED_BACK: Stage.SHADOW,
}


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class RolloutState(_Model):
    """The stored rollout of one agent."""

    agent: str
    stage: Stage
    """``shadow``, ``canary``, ``live`` or ``rolled_back`` (``paused`` is the kill switch)."""
    spec_hash: str
    """Content hash of the spec version being rolled out."""
    spec_version: str = ""
    """Its ``metadata.version`` label."""
    stage_since: datetime
    """When the gate of this stage started: entering the stage, or a new spec version."""
    version: int = 1
    """Compare-and-set counter, +1 on every change."""
    updated_at: datetime
    updated_by: str
    reason: str = ""


class RolloutTransition(_Model):
    """One change of a rollout, as recorded."""

    agent: str
    version: int
    """The state's ``version`` after this change."""
    action: RolloutAction
    from_stage: Stage | None
    to_stage: Stage
    spec_hash: str
    actor: str
    reason: str
    at: datetime


def transition_to(
    state: RolloutState, action: RolloutAction, before: Stage | None, actor: str
) -> RolloutTransition:
    """The transition record of a change that produced ``state`` from stage ``before``."""
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


SYSTEM_ACTOR = "warden"
"""Actor recorded for changes Warden makes on its own."""


def enrollment(
    current: RolloutState | None,
    *,
    agent: str,
    spec_hash: str,
    spec_version: str,
    has_plan: bool,
    now: datetime,
) -> tuple[RolloutState, RolloutTransition] | None:
    """What enrolling spec version ``spec_hash`` changes in ``agent``'s rollout, if anything.

    A first version of an agent with a plan starts in ``shadow``; a new version restarts
    the gate of the current stage (the stage stays; its clock starts again). The stage is
    never changed.

    Returns:
        The new state and its transition, or None when there is nothing to change (no
        plan, or this version is already the one being rolled out).
    """
    if not has_plan or (current is not None and current.spec_hash == spec_hash):
        return None
    if current is None:
        state = RolloutState(
            agent=agent,
            stage=Stage.SHADOW,
            spec_hash=spec_hash,
            spec_version=spec_version,
            stage_since=now,
            version=1,
            updated_at=now,
            updated_by=SYSTEM_ACTOR,
            reason="first use of an agent with a rollout plan: it starts in shadow",
        )
        return state, transition_to(state, RolloutAction.START, None, SYSTEM_ACTOR)
    state = current.model_copy(
        update={
            "spec_hash": spec_hash,
            "spec_version": spec_version,
            "stage_since": now,
            "version": current.version + 1,
            "updated_at": now,
            "updated_by": SYSTEM_ACTOR,
            "reason": f"spec version {spec_version} ({spec_hash[:12]}) replaced "
            f"{current.spec_version} ({current.spec_hash[:12]}): the gate of "
            f"{current.stage.value} starts again",
        }
    )
    return state, transition_to(state, RolloutAction.RESTART_GATE, current.stage, SYSTEM_ACTOR)


def next_stage(stage: Stage, action: RolloutAction) -> Stage:
    """The stage ``action`` leads to from ``stage``.

    Raises:
        ControlError: The action is not possible from that stage.
    """
    if action is RolloutAction.ADVANCE:
        nxt = _NEXT.get(stage)
        if nxt is None:
            raise ControlError(f"cannot advance from {stage.value}: it is the last stage")
        return nxt
    if action is RolloutAction.ROLLBACK:
        if stage is Stage.ROLLED_BACK:
            raise ControlError("already rolled back")
        return Stage.ROLLED_BACK
    if action is RolloutAction.RESTART_GATE:
        return stage
    raise ControlError(f"{action.value} is not a transition from {stage.value}")


def effective_stage(state: RolloutState | None, kill: KillSwitchState | None) -> Stage | None:
    """The stage runs see: ``paused`` while the kill switch is on, else the stored stage."""
    if kill is not None and kill.engaged:
        return Stage.PAUSED
    return state.stage if state is not None else None


class Route(_Model):
    """How one run is routed."""

    mode: RunMode
    """``live``, ``shadow`` or ``fallback``."""
    reason: str
    """Why, in plain words."""
    fallback: str | None = None
    """Where a fallback run goes: ``human_queue`` or an earlier version label."""
    killed: bool = False
    """Falls back because the kill switch is on (the run ends ``killed``)."""


def route(
    agent: str,
    plan: Rollout | None,
    state: RolloutState | None,
    kill: KillSwitchState | None,
    routing_key: str | None,
    run_id: str,
) -> Route:
    """Route one run.

    Args:
        agent: Agent name (hashed with the key for the canary slice).
        plan: The spec's rollout plan; None means no rollout (every run live).
        state: The stored rollout; None when not started (a plan's first stage is shadow).
        kill: The kill switch.
        routing_key: The run's stable key; without one the run id is used, so the run
            gets a random, not a sticky, place in the split.
        run_id: The run's id.
    """
    if kill is not None and kill.engaged:
        return Route(
            mode=RunMode.FALLBACK,
            reason=f"the kill switch is on ({kill.reason or 'no reason given'})",
            fallback=plan.fallback if plan else "human_queue",
            killed=True,
        )
    if plan is None:
        return Route(mode=RunMode.LIVE, reason="no rollout plan: every run is live")
    stage = state.stage if state is not None else Stage.SHADOW
    if stage is Stage.SHADOW:
        return Route(mode=RunMode.SHADOW, reason="in shadow: writes are proposals")
    if stage is Stage.LIVE:
        return Route(mode=RunMode.LIVE, reason="live")
    if stage is Stage.CANARY:
        share = plan.canary.traffic
        if in_slice(agent, routing_key or run_id, share):
            return Route(mode=RunMode.LIVE, reason=f"in the canary slice ({share:.0%})")
        return Route(
            mode=RunMode.FALLBACK,
            reason=f"not in the canary slice ({share:.0%} of routing keys)",
            fallback=plan.fallback,
        )
    return Route(
        mode=RunMode.FALLBACK, reason="the rollout was rolled back", fallback=plan.fallback
    )
