"""Shadow mode: a dry run of writes.

In a shadow run, read tools execute and write/approval tools are recorded as proposals
and not executed. The human's actual action is recorded later and compared with the
proposal (agreement rate, in the rollout issue).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["Proposal"]


class Proposal(BaseModel):
    """What ``run.call`` returns for a write tool in shadow mode: the call it would make."""

    tool: str
    arguments: dict[str, Any]
    proposed: bool = True
