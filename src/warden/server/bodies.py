"""Request bodies several API routers share: the reason given for an audited act."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

__all__ = ["Reason", "ReasonBody"]

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
"""Why something was done: 1 to 2000 characters, recorded in the audit log."""


class ReasonBody(BaseModel):
    """Why (recorded in the audit log)."""

    reason: Reason
