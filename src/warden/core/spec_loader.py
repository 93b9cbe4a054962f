"""Load an agent spec from YAML and report every problem with its file, line and field.

``parse_spec`` walks the YAML node tree (PyYAML's composer keeps each node's line), so a
pydantic error's location (``spec.tools.route_ticket.access``) maps back to the line that
holds that key. Duplicate keys, which YAML loaders silently merge, are errors here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from warden.core.spec import AgentSpec
from warden.errors import SpecError, SpecProblem

__all__ = ["load_spec", "parse_spec"]

_Path = tuple[str | int, ...]


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
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecProblem(file, 0, "(file)", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecProblem(file, 0, "(file)", f"cannot read: {exc}")]) from None
    return parse_spec(text, file=file)


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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1) if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(file, line, "(yaml)", f"not valid YAML: {problem}")]) from None
    if node is None:
        raise SpecError([SpecProblem(file, 1, "(document)", "the file is empty")])
    lines: dict[_Path, int] = {}
    problems: list[SpecProblem] = []
    _index(node, (), lines, problems, file)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        problems.append(SpecProblem(file, 1, "(document)", "the spec must be a YAML mapping"))
        raise SpecError(problems)
    try:
        spec = AgentSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc: _Path = tuple(err["loc"])
            problems.append(
                SpecProblem(file, _line_for(loc, lines), _dotted(loc) or "(document)", _msg(err))
            )
    if problems:
        problems.sort(key=lambda p: (p.line, p.path))
        raise SpecError(problems)
    return spec


def _index(
    node: yaml.Node,
    path: _Path,
    lines: dict[_Path, int],
    problems: list[SpecProblem],
    file: str,
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:  # pyright: ignore[reportUnknownVariableType]
            key = str(key_node.value)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            line = key_node.start_mark.line + 1  # pyright: ignore[reportUnknownMemberType]
            if key in seen:
                problems.append(
                    SpecProblem(
                        file,
                        line,
                        _dotted((*path, key)),
                        f"duplicate key (first defined on line {seen[key]})",
                    )
                )
            seen[key] = line
            lines[(*path, key)] = line
            _index(value_node, (*path, key), lines, problems, file)  # pyright: ignore[reportUnknownArgumentType]
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            _index(item, (*path, i), lines, problems, file)  # pyright: ignore[reportUnknownArgumentType]


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
