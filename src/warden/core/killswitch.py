"""The kill switch of an agent, and the request to turn it back on.

The switch is per agent: engaged, every process running the agent stops before its next
call and new runs fall back to people (``runtime.killswitch`` reads it; ``store.killswitch``
keeps it; ``control.killswitch`` holds the two-person release). Turning it back on takes
two people: one asks (``ReleaseRequest``), a different one approves.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["KillSwitchState", "ReleaseRequest"]


class _Record(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class KillSwitchState(_Record):
    """The kill switch of one agent."""

    agent: str
    engaged: bool = False
    reason: str | None = None
    actor: str | None = None
    changed_at: datetime | None = None


class ReleaseRequest(_Record):
    """Someone asked to turn an agent back on; a different person must approve."""

    agent: str
    requested_by: str
    """The label of who asked (``WARDEN_ACTOR`` or the token's name)."""
    reason: str
    requested_at: datetime
    requested_principal: str | None = None
    """Who asked (``Principal.key``); None on requests stored before principals."""

    @property
    def principal(self) -> str:
        """What the two-person rule compares: the principal, else the label."""
        return self.requested_principal or self.requested_by
