"""Turning an agent back on: the two-person rule shared by the CLI and the API.

The first operator to ask records a release request; a different operator (or owner)
asking approves it and releases the switch. Asking when the switch is off changes nothing.
"Different" compares principals (``core.tokens.Principal.key``: a token's person, or the
OS user of the local CLI), never the ``actor`` label, which ``WARDEN_ACTOR`` sets.
"""

from __future__ import annotations

from pydantic import BaseModel

from warden.core.clock import Clock
from warden.core.killswitch import KillSwitchState, ReleaseRequest
from warden.core.ports import Store

__all__ = ["UnkillResult", "unkill"]


class UnkillResult(BaseModel):
    """Where the kill switch is after an ``unkill``."""

    state: KillSwitchState
    pending: ReleaseRequest | None = None
    """Set while the release waits for a second person."""
    message: str


def unkill(
    store: Store,
    agent: str,
    *,
    actor: str,
    reason: str,
    clock: Clock,
    principal: str | None = None,
) -> UnkillResult:
    """Request, or approve, turning ``agent`` back on.

    Args:
        store: The store.
        agent: The agent.
        actor: How the act is labelled in records.
        reason: Why (recorded).
        clock: Time source.
        principal: Who acts (``Principal.key``), compared by the two-person rule;
            ``actor`` when None (a trusted library caller).

    Raises:
        RunStateError: Should two requests race, the loser's approval finds none pending.
    """
    state = store.get_kill_switch(agent)
    if not state.engaged:
        return UnkillResult(state=state, message=f"the kill switch of {agent} is already off")
    who = principal or actor
    pending = store.get_release_request(agent)
    if pending is None or pending.principal == who:
        request = store.request_release(
            agent, actor=actor, reason=reason, at=clock.now(), principal=who
        )
        return UnkillResult(
            state=state,
            pending=request,
            message=f"release of {agent} requested by {actor} ({who}); another person must "
            f"approve (`warden unkill {agent}` run by a different OS user, or with their "
            "own token: WARDEN_ACTOR only labels the act)",
        )
    released = store.approve_release(
        agent, actor=actor, reason=reason, at=clock.now(), principal=who
    )
    return UnkillResult(
        state=released,
        message=f"kill switch of {agent} released by {actor}, asked by {pending.requested_by}",
    )
