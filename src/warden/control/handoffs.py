"""The handoff lifecycle: a person claims a packet, resolves it with what they did, or
reassigns it to another queue.

Resolving records the person's action as the run's outcome (``control.outcomes``): the
run was handed over because the agent should not finish it alone, so what the person did
instead is what the agent is compared with, and it counts in the version's agreement.
"""

from __future__ import annotations

from typing import Any

from warden.control.outcomes import record_outcome
from warden.core.agreement import Outcome, normalise_actions
from warden.core.clock import Clock
from warden.core.ports import Store
from warden.core.runs import Handoff
from warden.core.spec import AgentSpec
from warden.errors import ConfigError, NotFoundError

__all__ = ["claim", "reassign", "resolve"]

MAX_NOTE = 2000
"""Longest note or reason kept, in characters."""


def _found(store: Store, handoff_id: str) -> Handoff:
    found = store.get_handoff(handoff_id)
    if found is None:
        raise NotFoundError(f"no handoff {handoff_id!r}")
    return found


def claim(store: Store, handoff_id: str, *, actor: str, clock: Clock) -> Handoff:
    """Take a packet off its queue (``open -> claimed``, audited).

    Raises:
        NotFoundError: No such packet.
        RunStateError: It is resolved, or claimed by someone else.
    """
    return store.claim_handoff(handoff_id, actor=actor, at=clock.now())


def resolve(
    store: Store,
    handoff_id: str,
    action: Any,
    *,
    actor: str,
    clock: Clock,
    note: str = "",
    spec: AgentSpec | None = None,
) -> tuple[Handoff, Outcome]:
    """Close a packet with what the person did, and record it as the run's outcome.

    Args:
        store: The store.
        handoff_id: The packet.
        action: What the person did, as ``record_outcome`` takes it (``None``: nothing,
            a tool name, ``{"tool": ..., "arguments": {...}}`` or a list of those).
        actor: Who.
        clock: When.
        note: Their note (up to ``MAX_NOTE`` characters).
        spec: The caller's spec, used when it is the run's version.

    Returns:
        The resolved packet and the outcome stored for its run.

    Raises:
        NotFoundError: No such packet.
        ConfigError: ``action`` is not an action, or the note is too long.
        RunStateError: It is resolved already, or claimed by someone else.
    """
    if len(note) > MAX_NOTE:
        raise ConfigError(f"the note is longer than {MAX_NOTE} characters")
    try:
        normalise_actions(action)  # refuse a bad action before the packet is closed
    except ValueError as exc:
        raise ConfigError(f"not an action: {exc}") from exc
    packet = _found(store, handoff_id)
    resolved = store.resolve_handoff(
        handoff_id, actor=actor, at=clock.now(), resolution=action, note=note.strip()
    )
    outcome = record_outcome(
        store, packet.agent, packet.run_id, action, actor=actor, clock=clock, spec=spec
    )
    return resolved, outcome


def reassign(
    store: Store, handoff_id: str, queue: str, *, actor: str, clock: Clock, reason: str
) -> Handoff:
    """Send a packet to another queue, open and unclaimed (audited: who, when, why).

    Raises:
        NotFoundError: No such packet.
        ConfigError: No queue or no reason, or the reason is too long.
        RunStateError: It is resolved already.
    """
    queue, reason = queue.strip(), reason.strip()
    if not queue or len(queue) > 128:
        raise ConfigError("name the queue (up to 128 characters)")
    if not reason or len(reason) > MAX_NOTE:
        raise ConfigError(f"say why (up to {MAX_NOTE} characters)")
    return store.reassign_handoff(
        handoff_id, queue=queue, actor=actor, at=clock.now(), reason=reason
    )
