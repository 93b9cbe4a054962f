"""Load an agent spec from YAML and report every problem with its file, line and field.

``parse_spec`` walks the YAML node tree (PyYAML's composer keeps each node's line), so a
pydantic error's location (``spec.tools.route_ticket.access``) maps back to the line that
holds that key. Duplicate keys, which YAML loaders silently merge, are errors here.

A spec is about a page, so anything far bigger is refused, fast, as a problem on its line
before it can stall or crash the reader (the examples use under 6 KB, 340 values and 8
levels):

- ``MAX_SPEC_BYTES`` (256 KiB, room for 10,000 values): a larger file is refused after
  reading only that much, so a 50 MB file costs no more than a page (PyYAML's pure-Python
  scanner reads about 1 MiB a second, so the limit also keeps any accepted file under a
  quarter of a second);
- ``MAX_SPEC_DEPTH`` (64): values nested deeper (``[[[[...]]]]``, ``{a: {a: ...}}``, or
  aliases placed inside each other) are refused before PyYAML's recursive composer or this
  module's builder could exhaust the Python stack;
- ``MAX_SPEC_NODES`` (10,000): no more values (keys included) are composed, and no more
  values are built once every alias is expanded, so a "billion laughs" alias bomb stops
  after 10,000 values instead of building billions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from warden.core.spec import AgentSpec
from warden.errors import SpecError, SpecProblem

__all__ = ["MAX_SPEC_BYTES", "MAX_SPEC_DEPTH", "MAX_SPEC_NODES", "load_spec", "parse_spec"]

MAX_SPEC_BYTES = 256 * 1024
"""Largest spec file, in bytes (UTF-8): 256 KiB."""
MAX_SPEC_DEPTH = 64
"""Deepest nesting of values: the document's mapping is level 1, ``spec:``'s mapping 2."""
MAX_SPEC_NODES = 10_000
"""Most values in a spec: YAML nodes composed (keys included), and values built with every
alias expanded."""

_Path = tuple[str | int, ...]


class _LimitExceeded(Exception):
    """The document passed one of the limits; reported as one problem at ``line``."""

    def __init__(self, line: int, path: str, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.path = path
        self.message = message


_TOO_DEEP = f"nested more than {MAX_SPEC_DEPTH} levels deep; an agent spec needs fewer than 10"
_TOO_MANY = (
    f"the spec holds more than {MAX_SPEC_NODES:,} values{{aliases}}; an agent spec is about "
    "a page (a few hundred)"
)


def load_spec(path: str | Path) -> AgentSpec:
    """Read and validate the agent spec at ``path``.

    Args:
        path: A YAML file (``apiVersion: warden/v1``, ``kind: Agent``).

    Returns:
        The validated, normalised ``AgentSpec``.

    Raises:
        SpecError: The file is missing, unreadable, not YAML, or not a valid spec; lists
            every problem as ``FILE:LINE: field.path: message``.
    """
    file = str(path)
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(MAX_SPEC_BYTES + 1)  # never more than the limit, whatever the size
        _check_size(data, file)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise SpecError([SpecProblem(file, 0, "(file)", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecProblem(file, 0, "(file)", f"cannot read: {exc}")]) from None
    return parse_spec(text, file=file)


def _check_size(data: bytes, file: str) -> None:
    """Refuse ``data`` longer than ``MAX_SPEC_BYTES``, on the line that passes the limit."""
    if len(data) > MAX_SPEC_BYTES:
        line = data.count(b"\n", 0, MAX_SPEC_BYTES) + 1
        message = (
            f"the spec is larger than {MAX_SPEC_BYTES // 1024} KiB ({MAX_SPEC_BYTES:,} bytes), "
            "the most a spec may be; an agent spec is about a page"
        )
        raise SpecError([SpecProblem(file, line, "(file)", message)])


def parse_spec(text: str, *, file: str = "<string>") -> AgentSpec:
    """Validate agent spec YAML ``text``.

    Args:
        text: The YAML document.
        file: Name used in problem reports.

    Returns:
        The validated ``AgentSpec``.

    Raises:
        SpecError: With every problem found, each with its line number (1-based).
    """
    if len(text) > MAX_SPEC_BYTES // 4:  # else it cannot be over the limit (4 bytes a char)
        _check_size(text.encode("utf-8", "surrogatepass"), file)
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
    except _LimitExceeded as exc:
        raise SpecError([SpecProblem(file, exc.line, exc.path, exc.message)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1) if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(file, line, "(yaml)", f"not valid YAML: {problem}")]) from None
    finally:
        loader.dispose()  # pyright: ignore[reportUnknownMemberType]
    if node is None:
        raise SpecError([SpecProblem(file, 1, "(document)", "the file is empty")])
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except _LimitExceeded as exc:
        raise SpecError([SpecProblem(file, exc.line, exc.path, exc.message)]) from None
    problems = builder.problems
    if not isinstance(data, dict):
        problems.append(SpecProblem(file, 1, "(document)", "the spec must be a YAML mapping"))
        raise SpecError(problems)
    spec: AgentSpec | None = None
    try:
        spec = AgentSpec.model_validate(data)
    except ValidationError as exc:
        # A value the YAML reader already refused is reported once, not again by pydantic.
        unreadable = {p.path for p in problems}
        problems += [
            p for p in _validation_problems(exc, builder.lines, file) if p.path not in unreadable
        ]
    if problems or spec is None:
        problems.sort(key=lambda p: (p.line, p.path))
        raise SpecError(problems)
    return spec


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing at most ``MAX_SPEC_NODES`` nodes (keys and aliases
    included) nested at most ``MAX_SPEC_DEPTH`` levels.

    PyYAML's scanner and parser keep their own stacks; only its composer recurses, once
    per level, so bounding ``compose_node`` bounds the recursion. A node past a limit
    raises ``_LimitExceeded`` at its line, before anything under it is read. The scanner
    is stopped too at the 65th unclosed ``[`` or ``{``: it reads up to 1,024 characters
    ahead for a possible key, with work growing as the square of the open brackets.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = cast("yaml.Event", self.peek_event())  # pyright: ignore[reportUnknownMemberType]
        line = event.start_mark.line + 1
        self._nodes += 1
        if self._nodes > MAX_SPEC_NODES:
            raise _LimitExceeded(line, "(yaml)", _TOO_MANY.format(aliases=""))
        if self._depth >= MAX_SPEC_DEPTH:
            raise _LimitExceeded(line, "(yaml)", _TOO_DEEP)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:  # noqa: N803
        # a collection this deep in flow style is deeper than MAX_SPEC_DEPTH as a node
        if self.flow_level >= MAX_SPEC_DEPTH:
            raise _LimitExceeded(cast(int, self.line) + 1, "(yaml)", _TOO_DEEP)
        super().fetch_flow_collection_start(TokenClass)  # pyright: ignore[reportUnknownMemberType]


class _Builder:
    """Turns the YAML node tree into plain data, remembering each path's line.

    Mapping keys are always taken as written (so ``on:`` stays the string ``on`` instead
    of YAML 1.1's boolean); values are constructed by PyYAML's safe constructor, and a
    value it refuses (unknown tag, ``!!int abc``) becomes a problem on its line.

    The tree it walks is bounded (``_BoundedLoader``), but an alias repeats its anchor's
    whole subtree wherever it appears, so the values built (every alias expanded) and
    their depth are bounded again here.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[_Path, int] = {}
        self.problems: list[SpecProblem] = []
        self._constructor = yaml.constructor.SafeConstructor()
        self._stack: set[int] = set()
        self._built = 0
        self._seen: set[int] = set()
        self._aliased = False

    def _problem(self, node: yaml.Node, path: _Path, message: str) -> None:
        self.problems.append(
            SpecProblem(self.file, node.start_mark.line + 1, _dotted(path) or "(document)", message)
        )

    def _merge_sources(self, node: yaml.Node, path: _Path) -> list[dict[str, Any]]:
        """The mappings a ``<<:`` merge key pulls in (one mapping or a list of them)."""
        nodes: list[yaml.Node] = list(node.value) if isinstance(node, yaml.SequenceNode) else [node]  # pyright: ignore[reportUnknownArgumentType]
        sources: list[dict[str, Any]] = []
        for item in nodes:
            value = self.build(item, path)
            if isinstance(value, dict):
                sources.append(cast(dict[str, Any], value))
            else:
                self._problem(item, path, "a merge key (<<) must refer to a mapping")
        return sources

    def _count(self, node: yaml.Node, path: _Path) -> None:
        """Count one more value built at ``path``; raise past a limit."""
        line = node.start_mark.line + 1
        if id(node) in self._seen:
            self._aliased = True  # this node was built before: an alias repeats it
        else:
            self._seen.add(id(node))
        self._built += 1
        if self._built > MAX_SPEC_NODES:
            aliases = " once its YAML aliases are expanded" if self._aliased else ""
            raise _LimitExceeded(
                line, _dotted(path) or "(document)", _TOO_MANY.format(aliases=aliases)
            )
        if len(path) >= MAX_SPEC_DEPTH:
            raise _LimitExceeded(line, _dotted(path), _TOO_DEEP)

    def build(self, node: yaml.Node, path: _Path) -> Any:
        """Plain data for ``node`` at ``path``; problems are collected, not raised.

        Raises:
            _LimitExceeded: Past ``MAX_SPEC_NODES`` values or ``MAX_SPEC_DEPTH`` levels.
        """
        self._count(node, path)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self._stack:
            self._problem(node, path, "recursive YAML alias")
            return None
        if isinstance(node, yaml.MappingNode):
            self._stack.add(id(node))
            out: dict[str, Any] = {}
            seen: dict[str, int] = {}
            merged: list[dict[str, Any]] = []
            for key_node, value_node in node.value:  # pyright: ignore[reportUnknownVariableType]
                if key_node.tag == _MERGE_TAG:  # pyright: ignore[reportUnknownMemberType]
                    merged += self._merge_sources(value_node, path)  # pyright: ignore[reportUnknownArgumentType]
                    continue
                key = str(key_node.value)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
                line = key_node.start_mark.line + 1  # pyright: ignore[reportUnknownMemberType]
                if key in seen:
                    self._problem(
                        key_node,  # pyright: ignore[reportUnknownArgumentType]
                        (*path, key),
                        f"duplicate key (first defined on line {seen[key]})",
                    )
                seen[key] = line
                self.lines[(*path, key)] = line
                out[key] = self.build(value_node, (*path, key))  # pyright: ignore[reportUnknownArgumentType]
            for source in merged:  # YAML merge keys: explicit keys win
                for key, value in source.items():
                    out.setdefault(key, value)
            self._stack.discard(id(node))
            return out
        if isinstance(node, yaml.SequenceNode):
            self._stack.add(id(node))
            items = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            self._stack.discard(id(node))
            return items
        try:
            return cast(Any, self._constructor.construct_object(node, deep=True))  # pyright: ignore[reportUnknownMemberType]
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            detail = getattr(exc, "problem", None) or str(exc)
            self._problem(node, path, f"cannot read this value: {detail}")
            return None


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _validation_problems(
    exc: ValidationError, lines: dict[_Path, int], file: str
) -> list[SpecProblem]:
    """One problem per place in the document (union alternatives are merged)."""
    merged: dict[_Path, list[str]] = {}
    for err in exc.errors(include_url=False):
        loc = _document_loc(tuple(err["loc"]), lines, err.get("type") == "missing")
        message = _msg(err)
        bucket = merged.setdefault(loc, [])
        if message not in bucket:
            bucket.append(message)
    return [
        SpecProblem(file, _line_for(loc, lines), _dotted(loc) or "(document)", " or ".join(msgs))
        for loc, msgs in merged.items()
    ]


def _document_loc(loc: _Path, lines: dict[_Path, int], missing: bool) -> _Path:
    """Drop pydantic's pseudo-segments (union members, validators) from an error location.

    A segment is kept when the path up to it exists in the document, or when it names the
    missing field (the last segment of a ``missing`` error).
    """
    loc = _clean(loc)
    kept: _Path = ()
    for i, part in enumerate(loc):
        if (*kept, part) in lines or (missing and i == len(loc) - 1):
            kept = (*kept, part)
    return kept


def _line_for(loc: _Path, lines: dict[_Path, int]) -> int:
    # pydantic adds pseudo-segments for unions and validators (e.g. "str", "function-after");
    # walk back to the longest prefix that exists in the document.
    loc = _clean(loc)
    for n in range(len(loc), -1, -1):
        line = lines.get(loc[:n])
        if line is not None:
            return line
    return 0


def _clean(loc: _Path) -> _Path:
    aliases = {"api_version": "apiVersion"}
    return tuple(aliases.get(p, p) if isinstance(p, str) else p for p in loc)


def _dotted(loc: _Path) -> str:
    out: list[str] = []
    for part in _clean(loc):
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif out:
            out.append(f".{part}")
        else:
            out.append(part)
    return "".join(out)


def _msg(err: Any) -> str:
    kind = err.get("type")
    if kind == "extra_forbidden":
        return "unknown field (not part of warden/v1)"
    if kind == "missing":
        return "required field is missing"
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")
