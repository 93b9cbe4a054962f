"""The typed call every tool call becomes, and the run state the policy reads.

``CallInput`` is what the runtime builds for each ``run.call(...)`` and what a policy
backtest rebuilds from recorded traffic, so both go through the same policy code.
``RunState`` is what the policy may know about the run so far: its input, which content
is trusted, what was called. It holds data only; the runtime updates it after each call
with ``note_*`` methods, and a backtest replays the same updates.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CallInput", "RunState", "arguments_hash", "canonical_json"]


def canonical_json(value: Any) -> str:
    """Serialise ``value`` as JSON with sorted keys and no whitespace.

    Values JSON cannot hold (datetimes, pydantic models, sets) fall back to ``str``.
    """
    return _ENCODER.encode(value)


def _json_default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return str(value)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_default)


def arguments_hash(tool: str, arguments: dict[str, Any]) -> str:
    """SHA-256 (hex) of the tool name and canonical arguments.

    An approval is bound to this hash: a changed argument needs a new approval.
    """
    return hashlib.sha256(f"{tool}\x00{canonical_json(arguments)}".encode()).hexdigest()


class CallInput(BaseModel):
    """One tool call as the policy sees it."""

    model_config = ConfigDict(frozen=True)

    agent: str
    """Agent name (spec ``metadata.name``)."""
    run_id: str
    tool: str
    """Tool name as the agent called it."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """Arguments after validation and coercion by the tool's signature."""
    seq: int = 0
    """Step number within the run (1-based; 0 when unknown)."""

    @cached_property
    def args_hash(self) -> str:
        """``arguments_hash(tool, arguments)``, computed once (the model is frozen; build a
        new ``CallInput`` rather than ``model_copy(update=...)`` to change arguments)."""
        return arguments_hash(self.tool, self.arguments)


@dataclass(slots=True)
class RunState:
    """What the policy may know about a run so far.

    Attributes:
        agent: Agent name.
        run_id: Run id.
        input_text: The run's input as text: trusted content.
        trusted_texts: Casefolded text of the results of tools not marked
            ``untrusted_output`` (plus the input), used by the provenance rule.
        untrusted_sources: Tools whose (untrusted) results this run has read, in order.
        tool_calls: Calls per tool that the policy let through in this run.
        write_calls: Write/approval calls the policy let through in this run.
        call_counts: Attempts per ``arguments_hash`` (loop detection).
        agent_calls_last_minute: Calls per tool by this agent in the last 60 s, across runs
            (filled in by the runtime before each decision).
    """

    agent: str
    run_id: str
    input_text: str = ""
    trusted_texts: list[str] = field(default_factory=list[str])
    untrusted_sources: list[str] = field(default_factory=list[str])
    tool_calls: Counter[str] = field(default_factory=Counter[str])
    write_calls: int = 0
    call_counts: Counter[str] = field(default_factory=Counter[str])
    agent_calls_last_minute: dict[str, int] = field(default_factory=dict[str, int])

    @classmethod
    def start(cls, agent: str, run_id: str, run_input: Any) -> RunState:
        """A fresh state for a run whose input is ``run_input`` (any JSON-able value)."""
        text = run_input if isinstance(run_input, str) else canonical_json(run_input)
        return cls(agent=agent, run_id=run_id, input_text=text, trusted_texts=[text.casefold()])

    @property
    def has_read_untrusted(self) -> bool:
        """True once any result of an ``untrusted_output`` tool was read."""
        return bool(self.untrusted_sources)

    def is_trusted_value(self, value: Any) -> bool:
        """True when ``value`` (as text, casefolded) appears whole in trusted content.

        "Whole" means not glued to letters or digits on either side, so a prefix of a
        trusted account number or a shortened domain does not count as trusted.
        """
        needle = (value if isinstance(value, str) else canonical_json(value)).casefold().strip()
        if not needle:
            return True
        pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")
        return any(needle in text and pattern.search(text) for text in self.trusted_texts)

    def note_attempt(self, call: CallInput) -> None:
        """Record that ``call`` was attempted (after its decision; loop detection).

        ``call_counts`` therefore holds earlier attempts when the policy decides a call.
        """
        self.call_counts[call.args_hash] += 1

    def note_allowed(self, call: CallInput, *, side_effects: bool) -> None:
        """Record that the policy let ``call`` through (allowed or approved)."""
        self.tool_calls[call.tool] += 1
        if side_effects:
            self.write_calls += 1

    def note_result(self, tool: str, result: Any, *, untrusted: bool) -> None:
        """Record a tool result: trusted content, or an untrusted source."""
        if untrusted:
            self.untrusted_sources.append(tool)
        elif result is not None:
            text = result if isinstance(result, str) else canonical_json(result)
            self.trusted_texts.append(text.casefold())
