"""Handoff packets: what a person needs to take a run over."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from warden.core.runs import Handoff

if TYPE_CHECKING:
    from warden.runtime.run import Run

__all__ = ["build_handoff"]


def build_handoff(run: Run, *, queue: str, trigger: str, reason: str) -> Handoff:
    """A handoff packet for ``run``: its input, each step so far, the last error and why.

    Args:
        run: The run being handed over.
        queue: The human queue (spec ``escalation.queue``).
        trigger: ``low_confidence``, ``budget_exceeded``, ``policy_denied``,
            ``tool_failed``, ``approval_timeout``, ``kill_switch`` or ``manual``.
        reason: Why, in plain words.
    """
    return Handoff(
        id=f"hof_{uuid.uuid4().hex[:16]}",
        run_id=run.id,
        agent=run.spec.name,
        queue=queue,
        trigger=trigger,
        reason=reason,
        input=run.input,
        steps=list(run.trail),
        last_error=run.last_error,
        created_at=run.governor.clock.now(),
    )
