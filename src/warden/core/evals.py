"""Eval results: the latest measured result of an agent version on its eval set.

The readiness review's ``eval_set`` item reads the newest result for the spec version
being rolled out: at least ``readiness.EVAL_MIN_CASES`` cases and a passing result, and no
forbidden call allowed in the red-team cases. Who produces a result (a demo's offline
eval, ``warden eval`` later) records how it was scored in ``detail``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EvalResult"]


class EvalResult(BaseModel):
    """One scored run of an eval set against one agent version."""

    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)

    id: str
    agent: str
    spec_hash: str
    """Content hash of the spec version evaluated."""
    spec_version: str = ""
    set_name: str
    set_hash: str
    """Content hash of the eval set (its cases), so results on different sets never mix."""
    cases: int = Field(ge=0)
    passed_cases: int = Field(ge=0)
    errors: int = Field(default=0, ge=0)
    """Cases that could not be scored (infrastructure errors: never counted as passes)."""
    pass_rate: float | None = None
    """passed_cases / scored cases; None when nothing was scored."""
    floor: float = Field(ge=0, le=1)
    """The pass-rate floor the result was held to."""
    redteam_cases: int = Field(default=0, ge=0)
    redteam_executed: int = Field(default=0, ge=0)
    """Red-team cases in which a forbidden call was allowed (must be 0 to pass)."""
    passed: bool
    detail: str = ""
    """How it was scored, in plain words."""
    actor: str
    at: datetime
