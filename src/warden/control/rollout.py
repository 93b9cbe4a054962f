"""Rollout control: stage changes by people and by Warden, and an agent's rollout status.

Every change goes through ``Store.save_rollout`` (compare-and-set on the state's
``version``, with a transition record and an audit entry in the same transaction).
``change_stage`` advances (through the gate, ``control.gates.gate_check``) or rolls back;
``rollout_status`` reads stage, kill switch, gate and agreement for the CLI, the API and
the dashboard. Routing runs by the state lives in ``warden.runtime.routing``.
"""

from __future__ import annotations

from collections.abc import Callable

from warden.control.gates import evaluate_gate, spec_of
from warden.core.clock import Clock
from warden.core.ports import Store
from warden.core.readiness import ReadinessFacts
from warden.core.rollout import (
    RolloutAction,
    RolloutState,
    Stage,
    effective_stage,
    next_stage,
    transition_to,
)
from warden.core.status import RolloutStatus
from warden.errors import ControlError, TransitionConflict

__all__ = ["change_stage", "rollout_status"]


def rollout_status(
    store: Store,
    agent: str,
    clock: Clock,
    *,
    history: int = 10,
    facts: ReadinessFacts | None = None,
) -> RolloutStatus:
    """The rollout status of ``agent`` now.

    Raises:
        ControlError: The agent has no rollout.
        NotFoundError: The spec version being rolled out is not in the store.
    """
    state = store.get_rollout(agent)
    if state is None:
        raise ControlError(f"{agent} has no rollout (its spec has no rollout plan, or never ran)")
    spec = spec_of(store, agent, state.spec_hash)
    kill = store.get_kill_switch(agent)
    plan = spec.spec.rollout
    stage = effective_stage(state, kill) or state.stage
    return RolloutStatus(
        agent=agent,
        stage=stage,
        stored_stage=state.stage,
        spec_version=state.spec_version,
        spec_hash=state.spec_hash,
        stage_since=state.stage_since,
        version=state.version,
        traffic=plan.canary.traffic if plan and state.stage is Stage.CANARY else None,
        fallback=plan.fallback if plan else "human_queue",
        kill_switch=kill,
        gate=evaluate_gate(store, spec, state, clock, facts=facts),
        agreement=store.agreement(agent),
        transitions=store.list_rollout_transitions(agent)[-history:],
    )


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
            raises to refuse (the gate, ``control.gates.gate_check``). Rollbacks need none.

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
        transition=transition_to(state, action, current.stage, actor),
    )
