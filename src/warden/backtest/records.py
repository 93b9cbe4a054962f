"""Recorded traffic, in one shape whatever its source (AgentDojo, OTLP JSON, Warden's store)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warden.core.decisions import Decision

__all__ = ["RecordedCall", "RecordedRun", "RunLabels"]


class RecordedCall(BaseModel):
    """One tool call as it happened."""

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict[str, Any])
    executed: bool = True
    """Whether it ran (its result then fed the run): False for calls that were denied,
    invalid or only proposed (shadow) when recorded."""
    proposed: bool = False
    """Recorded in shadow mode: let through by the policy but not executed."""
    result: Any = None
    """What the tool returned (text or data), when it ran."""
    error: str | None = None
    """What the tool raised, when it ran and failed: never trusted content, and untrusted
    content when the tool is ``untrusted_output`` (``PolicySession.failed``)."""
    recorded_decision: Decision | None = None
    """The decision recorded live, when the source is Warden's own store."""


class RunLabels(BaseModel):
    """What the source knows about a run's outcome (AgentDojo's ground truth)."""

    model_config = ConfigDict(frozen=True)

    suite: str = ""
    pipeline: str = ""
    user_task: str = ""
    injection_task: str | None = None
    """Set when the run was under a prompt-injection attack."""
    attack_type: str | None = None
    utility: bool | None = None
    """The user's task succeeded."""
    security: bool | None = None
    """The attacker's goal was reached (AgentDojo's ``security`` field: true = attack succeeded)."""


class RecordedRun(BaseModel):
    """A run as it happened: its trusted input and its tool calls in order."""

    model_config = ConfigDict(frozen=True)

    id: str
    agent: str = ""
    input: Any = None
    """Trusted content: the user's request (and the operator's system prompt)."""
    calls: list[RecordedCall] = Field(default_factory=list[RecordedCall])
    labels: RunLabels = Field(default_factory=RunLabels)
