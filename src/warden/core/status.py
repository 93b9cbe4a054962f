"""The rollout status of an agent, as ``warden rollout status`` shows it (and ``--json``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from warden.core.agreement import AgreementRate
from warden.core.gates import GateResult
from warden.core.killswitch import KillSwitchState
from warden.core.rollout import RolloutTransition, Stage

__all__ = ["RolloutStatus"]


class RolloutStatus(BaseModel):
    """Where an agent's rollout is and what holds it there."""

    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)

    agent: str
    stage: Stage
    """What runs see: ``paused`` while the kill switch is on, else ``stored_stage``."""
    stored_stage: Stage
    spec_version: str
    spec_hash: str
    stage_since: datetime
    """When the current stage's gate started."""
    version: int
    """Pass it to ``advance --expected-version`` to act only on what you saw."""
    traffic: float | None = None
    """Canary share of routing keys (canary only)."""
    fallback: str
    kill_switch: KillSwitchState
    gate: GateResult | None = None
    """The gate out of the current stage (none in ``live`` and ``rolled_back``)."""
    agreement: list[AgreementRate] = Field(default_factory=list[AgreementRate])
    """Shadow agreement per spec version (all time)."""
    transitions: list[RolloutTransition] = Field(default_factory=list[RolloutTransition])
    """The most recent changes, oldest first."""
