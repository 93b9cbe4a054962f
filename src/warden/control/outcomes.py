"""Record what a person actually did for a run, and compare it with the agent's proposal.

``record_outcome(key, action)`` finds the run by id, else the newest shadow run (else the
newest run) of the agent with that routing key, compares the person's action with the
run's writes (proposed in shadow, executed when live: ``core.agreement``) and stores the
comparison. Agreement rates per spec version come from the stored outcomes.
"""

from __future__ import annotations

from typing import Any

from warden.control.gates import spec_of
from warden.core.agreement import Outcome, agent_actions, agrees, normalise_actions
from warden.core.clock import Clock
from warden.core.ports import Store
from warden.core.runs import RunMode
from warden.core.spec import AgentSpec
from warden.errors import ConfigError, NotFoundError

__all__ = ["record_outcome"]


def record_outcome(
    store: Store,
    agent: str,
    key: str,
    action: Any,
    *,
    actor: str,
    clock: Clock,
    spec: AgentSpec | None = None,
) -> Outcome:
    """Compare a person's ``action`` with the run ``key`` names and store the result.

    Which tools write is read from the spec version that governed the run (``spec`` when
    it is that version, else the stored version).

    Args:
        store: The store.
        agent: Agent name.
        key: A run id, or a routing key (its newest shadow run, else its newest run).
        action: What the person did: ``None``, a tool name, ``{"tool": ..., "arguments":
            {...}}`` (only the arguments that matter), or a list of those.
        actor: Who records it.
        clock: Time of the record.
        spec: The caller's spec, used when it is the run's version.

    Raises:
        NotFoundError: No run of this agent has that id or routing key.
        ConfigError: ``action`` is not an action.
    """
    try:
        human = normalise_actions(action)
    except ValueError as exc:
        raise ConfigError(f"not an action: {exc}") from exc
    detail = store.get_run(key)
    if detail is None or detail.run.agent != agent:
        record = store.latest_run_for_key(agent, key, RunMode.SHADOW)
        record = record or store.latest_run_for_key(agent, key)
        detail = store.get_run(record.id) if record is not None else None
    if detail is None:
        raise NotFoundError(f"no run of {agent} has the id or routing key {key!r}")
    run = detail.run
    if spec is None or spec.content_hash() != run.spec_hash:
        spec = spec_of(store, agent, run.spec_hash)
    proposed = agent_actions(detail, spec)
    return store.save_outcome(
        Outcome(
            run_id=run.id,
            agent=agent,
            spec_hash=run.spec_hash,
            spec_version=run.spec_version,
            mode=run.mode,
            routing_key=run.routing_key,
            human=human,
            proposed=proposed,
            agreed=agrees(human, proposed),
            actor=actor,
            run_started_at=run.started_at,
            recorded_at=clock.now(),
        )
    )
