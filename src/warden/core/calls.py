"""The typed call every tool call becomes, and the run state the policy reads.

``CallInput`` is what the runtime builds for each ``run.call(...)`` and what a policy
backtest rebuilds from recorded traffic, so both go through the same policy code.
``RunState`` is what the policy may know about the run so far: its input, which content
is trusted, what was called. It holds data only; the runtime updates it after each call
with ``note_*`` methods, and a backtest replays the same updates.

Provenance matching (``RunState.is_trusted_value``, used by the ``provenance`` rule) compares
*normalized whole tokens*, never fragments:

- Both sides are normalized alike (``normalize_text``): Unicode NFKC, then the lowercase
  mapping, then NFKC again. NFKC folds compatibility look-alikes (fullwidth letters, the
  Kelvin sign) the way IDNA does for domain names, and lowercasing makes the match
  case-insensitive. Full case folding (``str.casefold``) is deliberately not used: it maps
  ``ß`` to ``ss`` and final sigma to the medial one, which would make ``straße.de`` and
  ``strasse.de`` (different domains under IDNA 2008) the same name.
- Trusted content is kept as its *field values*: each string or number in the run's input
  and in trusted tool results (dictionary keys, booleans and nulls are not values).
- A value matches when it equals a whole field value, or sits in one field value with a
  token boundary on both sides: the character before it is the start of the field or a
  separator (whitespace or one of ``"'`,;()[]{}<>|\\``), and after it come only sentence
  punctuation (``. : ! ?``) before the end of the field or a separator. So ``com`` does not
  match inside ``bob@example.com``, ``123456`` not inside ``acct-123456``, and a URL only
  whole, never a prefix of a trusted URL (``/``, ``?``, ``#`` continue a token).
- A value containing a separator other than a space (``a@x.com,b@y.com``, JSON glue such
  as ``","``) matches only a whole field value, so it cannot span two fields; a value with
  spaces (``Emma Johnson``) matches a run of words inside one field.
- Values shorter than ``MIN_TRUSTED_LENGTH`` (4) characters after normalization and
  trimming never match, nor do empty or blank values, ``None`` and booleans: a 1-3
  character recipient, account or URL names nothing reliably, and such short strings
  occur by chance in any text ("42", "com", "usd").
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MIN_TRUSTED_LENGTH",
    "CallInput",
    "RunState",
    "arguments_hash",
    "canonical_json",
    "field_values",
    "normalize_text",
]

MIN_TRUSTED_LENGTH = 4
"""Shortest value (characters, after ``normalize_text`` and trimming) that can match trusted
content in the provenance rule."""

_SEPARATORS = frozenset("\"'`,;()[]{}<>|\\")
"""Characters that end a token besides whitespace (quotes, list and bracket punctuation)."""

_TRAILING = frozenset(".:!?")
"""Sentence punctuation allowed between a token and the separator or end that follows it."""


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


MAX_ARGUMENT_DEPTH = 32
"""Deepest nesting of one tool-call argument: lists, tuples, sets, dicts, pydantic models and
dataclass instances inside each other (``[["a"]]`` is 2 levels). A deeper argument is
refused (``ToolInputError``, never executed) before validation, canonical JSON or hashing,
all recursive, run on it; JSON from a model or an API is a few levels deep."""


def too_deep_argument(arguments: dict[str, Any], limit: int = MAX_ARGUMENT_DEPTH) -> str | None:
    """The name of the first argument nested more than ``limit`` levels deep, or None.

    Walks without recursion and stops at the first container past ``limit``, so a value
    100,000 levels deep, or one that contains itself, costs ``limit`` steps. A part shared
    by several paths is walked again only when reached deeper than before, so the cost is
    at most ``limit`` times the number of distinct containers, whatever the number of paths.
    """
    for name, value in arguments.items():
        deepest: dict[int, int] = {}  # id of a container -> deepest level it was walked at
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if deepest.get(id(item), 0) >= depth:
                continue
            children = _parts(item)
            if children is None:
                continue
            if depth > limit:
                return name
            deepest[id(item)] = depth
            stack.extend((child, depth + 1) for child in children)
    return None


def _parts(item: object) -> list[Any] | None:
    """The values ``item`` holds, or None when it holds none (text, numbers, other objects)."""
    if isinstance(item, str | bytes | bytearray | int | float | None):
        return None
    if isinstance(item, dict):
        mapping = cast(dict[Any, Any], item)
        return [*mapping.keys(), *mapping.values()]
    if isinstance(item, list | tuple | set | frozenset):
        return list(cast(list[Any], item))
    if isinstance(item, BaseModel):
        return [*vars(item).values(), *(item.__pydantic_extra__ or {}).values()]
    fields: dict[str, Any] | None = getattr(type(item), "__dataclass_fields__", None)
    if fields is not None:
        return [getattr(item, f, None) for f in fields]
    return None


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


def normalize_text(text: str) -> str:
    """``text`` in the form provenance compares: NFKC, lowercase mapping, NFKC.

    Used on both sides of a comparison (trusted content and the value to check). See the
    module docstring for why this is the lowercase mapping and not ``str.casefold``.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())


def _is_separator(ch: str) -> bool:
    return ch.isspace() or ch in _SEPARATORS


def field_values(value: Any) -> Iterator[str]:
    """The field values of ``value``: each string, and each number as canonical JSON.

    Walks dicts (values only, not keys), lists and tuples depth-first, without recursion;
    other objects (pydantic models, dataclasses, sets) are read through ``canonical_json``.
    Booleans and ``None`` are not values.
    """
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int | float):
            yield canonical_json(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(cast(dict[Any, Any], item).values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(list(cast(list[Any], item))))
        else:
            stack.append(json.loads(canonical_json(item)))


def _occurs_as_token(needle: str, text: str) -> bool:
    """``needle`` occurs in ``text`` with a token boundary on both sides."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if start == 0 or _is_separator(text[start - 1]):
            while end < len(text) and text[end] in _TRAILING:
                end += 1
            if end == len(text) or _is_separator(text[end]):
                return True
        start = text.find(needle, start + 1)
    return False


@dataclass(slots=True)
class RunState:
    """What the policy may know about a run so far.

    Attributes:
        agent: Agent name.
        run_id: Run id.
        input_text: The run's input as text: trusted content.
        trusted_texts: Field values of trusted content (the input, and the results of tools
            not marked ``untrusted_output``), each normalized with ``normalize_text``; the
            provenance rule matches against them (module docstring).
        untrusted_sources: Tools whose (untrusted) results or errors this run has read, in
            order.
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
        state = cls(agent=agent, run_id=run_id, input_text=text)
        state.note_trusted(run_input)
        return state

    @property
    def has_read_untrusted(self) -> bool:
        """True once any result (or error) of an ``untrusted_output`` tool was read."""
        return bool(self.untrusted_sources)

    def is_trusted_value(self, value: Any) -> bool:
        """True when ``value`` appears as a whole token or field value of trusted content.

        The rule (module docstring): normalized alike on both sides; at least
        ``MIN_TRUSTED_LENGTH`` characters; a whole field value, or inside one field value
        between token boundaries; a value with a separator other than a space only as a
        whole field value. Empty and blank values, ``None`` and booleans never match.

        Args:
            value: An argument value: text, or a number (compared as canonical JSON);
                anything else is compared as its canonical JSON, which matches only a
                field value holding exactly that text.
        """
        if value is None or isinstance(value, bool):
            return False
        raw = value if isinstance(value, str) else canonical_json(value)
        needle = normalize_text(raw).strip()
        if len(needle) < MIN_TRUSTED_LENGTH:
            return False
        if any(_is_separator(ch) for ch in needle.replace(" ", "")):
            return any(needle == text.strip() for text in self.trusted_texts)
        return any(needle in text and _occurs_as_token(needle, text) for text in self.trusted_texts)

    def note_trusted(self, content: Any) -> None:
        """Add ``content`` (the input, or a trusted tool result) to trusted content."""
        self.trusted_texts.extend(normalize_text(text) for text in field_values(content))

    def note_untrusted(self, tool: str) -> None:
        """Record that content from ``tool`` (a result or an error) was read: untrusted."""
        self.untrusted_sources.append(tool)

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
            self.note_untrusted(tool)
        elif result is not None:
            self.note_trusted(result)
