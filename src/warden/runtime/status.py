"""Build an agent's rollout status from the store: stage, kill switch, gate, agreement."""

from __future__ import annotations

from warden.core.clock import Clock
from warden.core.readiness import ReadinessFacts
from warden.core.rollout import Stage, effective_stage
from warden.core.status import RolloutStatus
from warden.core.store import Store
from warden.errors import ControlError
from warden.runtime.gates import evaluate_gate, spec_of

__all__ = ["rollout_status"]


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
