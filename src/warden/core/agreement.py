"""Shadow agreement: did the agent propose what the person actually did?

In shadow mode the agent's write calls are proposals. Later the person's actual action for
the same routing key (or run) is recorded (``wd.record_outcome``, ``warden outcomes
record``) and compared with the run's proposals:

- an action is ``{"tool": NAME, "arguments": {...}}`` (or just the tool name as a string);
  the person's action may give only the arguments that matter (``{"tool": "route_ticket",
  "arguments": {"queue": "card_arrival"}}``): an agent's call matches when the tool is the
  same and every argument the person gave has the same value;
- the person's actions are a list (or one action, or ``None`` for "did nothing"); the run
  agrees when each of the person's actions matches a different one of the agent's and the
  agent did nothing more.

The agreement rate of a spec version is agreed / compared, with a Wilson score interval
(Wilson, "Probable inference, the law of succession, and statistical inference", JASA 22,
1927; recommended over the normal approximation by Brown, Cai and DasGupta, "Interval
estimation for a binomial proportion", Statistical Science 16(2), 2001): it stays inside
[0, 1] and is honest with few samples.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warden.core.runs import RunDetail, RunMode, ToolCallStatus
from warden.core.spec import AgentSpec

__all__ = [
    "Z_95",
    "AgentAction",
    "AgreementRate",
    "Outcome",
    "agent_actions",
    "agrees",
    "normalise_actions",
    "wilson_interval",
]

Z_95 = 1.959963984540054
"""Two-sided 95 % quantile of the standard normal distribution."""


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class AgentAction(_Model):
    """One write an agent made or proposed, or one a person made."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict[str, Any])


class Outcome(_Model):
    """A person's actual action for one run, compared with the agent's."""

    run_id: str
    agent: str
    spec_hash: str
    spec_version: str = ""
    mode: RunMode
    """The run's mode: agreement gates count ``shadow`` runs."""
    routing_key: str | None = None
    human: list[AgentAction]
    """What the person did."""
    proposed: list[AgentAction]
    """What the agent proposed (shadow) or did (live)."""
    agreed: bool
    actor: str
    """Who recorded it."""
    run_started_at: datetime
    recorded_at: datetime


class AgreementRate(_Model):
    """Agreement of one spec version, with its Wilson 95 % interval."""

    spec_hash: str
    spec_version: str = ""
    agreed: int
    compared: int
    rate: float | None
    """agreed / compared; None with no comparisons."""
    low: float
    high: float

    @classmethod
    def of(cls, spec_hash: str, spec_version: str, agreed: int, compared: int) -> AgreementRate:
        """Build from counts."""
        low, high = wilson_interval(agreed, compared)
        rate = agreed / compared if compared else None
        return cls(
            spec_hash=spec_hash,
            spec_version=spec_version,
            agreed=agreed,
            compared=compared,
            rate=rate,
            low=low,
            high=high,
        )


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: Successes (0 <= successes <= trials).
        trials: Trials; with 0 the interval is the whole of [0, 1].
        z: Standard normal quantile (default: 95 % two-sided).

    Returns:
        ``(low, high)`` within [0, 1].
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return 0.0, 1.0
    n = trials
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def normalise_actions(action: Any) -> list[AgentAction]:
    """A person's action(s) as a list: ``None``, a tool name, a dict, or a list of those.

    Raises:
        ValueError: A value is not an action.
    """
    if action is None:
        return []
    items: list[Any] = list(action) if isinstance(action, list | tuple) else [action]  # pyright: ignore[reportUnknownArgumentType]
    result: list[AgentAction] = []
    for item in items:
        if isinstance(item, str):
            result.append(AgentAction(tool=item))
        elif isinstance(item, AgentAction):
            result.append(item)
        else:
            result.append(AgentAction.model_validate(item))
    return result


def agent_actions(detail: RunDetail, spec: AgentSpec) -> list[AgentAction]:
    """The writes of a run: proposed (shadow) or executed (live), in step order."""
    done = (ToolCallStatus.PROPOSED, ToolCallStatus.SUCCEEDED, ToolCallStatus.REUSED)
    result: list[AgentAction] = []
    for call in detail.tool_calls:
        tool = spec.tool(call.tool)
        if call.status in done and tool is not None and tool.has_side_effects:
            result.append(AgentAction(tool=call.tool, arguments=call.arguments))
    return result


def agrees(human: list[AgentAction], agent: list[AgentAction]) -> bool:
    """Whether the agent did what the person did (see the module docstring)."""
    if len(human) != len(agent):
        return False
    left = list(agent)
    for want in human:
        match = next((a for a in left if _matches(want, a)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _matches(want: AgentAction, got: AgentAction) -> bool:
    return want.tool == got.tool and all(
        k in got.arguments and got.arguments[k] == v for k, v in want.arguments.items()
    )
