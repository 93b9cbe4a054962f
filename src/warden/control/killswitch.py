"""Turning an agent back on: the two-person rule shared by the CLI and the API.

The first operator to ask records a release request; a different operator (or owner)
asking approves it and releases the switch. Asking when the switch is off changes nothing.
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


def unkill(store: Store, agent: str, *, actor: str, reason: str, clock: Clock) -> UnkillResult:
    """Request, or approve, turning ``agent`` back on.

    Raises:
        RunStateError: Should two requests race, the loser's approval finds none pending.
    """
    state = store.get_kill_switch(agent)
    if not state.engaged:
        return UnkillResult(state=state, message=f"the kill switch of {agent} is already off")
    pending = store.get_release_request(agent)
    if pending is None or pending.requested_by == actor:
        request = store.request_release(agent, actor=actor, reason=reason, at=clock.now())
        return UnkillResult(
            state=state,
            pending=request,
            message=f"release of {agent} requested by {actor}; another operator must approve "
            f"(run `warden unkill {agent}` as someone else)",
        )
    released = store.approve_release(agent, actor=actor, reason=reason, at=clock.now())
    return UnkillResult(
        state=released,
        message=f"kill switch of {agent} released by {actor}, asked by {pending.requested_by}",
    )
