"""Handoff packets: what a person needs to take a run over."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from warden.core.runs import Handoff

__all__ = ["build_handoff"]


def build_handoff(
    *,
    run_id: str,
    agent: str,
    input: Any,
    trail: Sequence[str],
    last_error: str | None,
    queue: str,
    trigger: str,
    reason: str,
    at: datetime,
) -> Handoff:
    """A handoff packet: the run's input, each step so far, the last error and why.

    Args:
        run_id: The run being handed over.
        agent: Its agent.
        input: The task it was given.
        trail: One plain line per step so far.
        last_error: The last error, if any.
        queue: The human queue (spec ``escalation.queue``).
        trigger: ``low_confidence``, ``budget_exceeded``, ``policy_denied``,
            ``tool_failed``, ``approval_timeout``, ``kill_switch``, ``fallback`` or
            ``manual``.
        reason: Why, in plain words.
        at: When.
    """
    return Handoff(
        id=f"hof_{uuid.uuid4().hex[:16]}",
        run_id=run_id,
        agent=agent,
        queue=queue,
        trigger=trigger,
        reason=reason,
        input=input,
        steps=list(trail),
        last_error=last_error,
        created_at=at,
    )
