"""Argument constraints: enum, regex pattern, numeric range, length, allow-list, required."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, cast

from warden.core.spec import ArgumentConstraint

__all__ = ["violations"]


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def violations(name: str, present: bool, value: Any, rule: ArgumentConstraint) -> list[str]:
    """Every way ``value`` breaks ``rule``, as plain sentences (empty when it complies).

    Args:
        name: The argument's name (used in the sentences).
        present: Whether the call passed the argument at all.
        value: The argument's value (ignored when not present).
        rule: The constraint from the spec.

    Returns:
        A list of sentences, e.g. ``["amount 500 is above the maximum of 100."]``.
    """
    if not present:
        return [f"the argument {name} is required but was not given."] if rule.required else []
    out: list[str] = []
    if rule.enum is not None and not any(
        value == allowed and isinstance(value, bool) == isinstance(allowed, bool)
        for allowed in rule.enum
    ):
        out.append(f"{name} {value!r} is not one of the allowed values.")
    if rule.pattern is not None and (
        not isinstance(value, str) or _compiled(rule.pattern).fullmatch(value) is None
    ):
        out.append(f"{name} {value!r} does not have the required format.")
    if rule.min is not None or rule.max is not None:
        if not _is_number(value) or value != value:  # NaN compares false with everything
            out.append(f"{name} must be a number, got {value!r}.")
        else:
            number = cast(float, value)  # exact: big ints are not rounded through float()
            if rule.min is not None and number < rule.min:
                out.append(f"{name} {value!r} is below the minimum of {rule.min:g}.")
            if rule.max is not None and number > rule.max:
                out.append(f"{name} {value!r} is above the maximum of {rule.max:g}.")
    if rule.max_length is not None:
        if isinstance(value, str | list | tuple | dict):
            if len(value) > rule.max_length:  # pyright: ignore[reportUnknownArgumentType]
                out.append(f"{name} is longer than {rule.max_length} characters or items.")
        else:
            out.append(f"{name} must be text or a list to check its length.")
    if rule.allow is not None:
        items: list[Any] = list(value) if isinstance(value, list | tuple) else [value]  # pyright: ignore[reportUnknownArgumentType]
        for item in items:
            if not isinstance(item, str) or not any(fnmatchcase(item, p) for p in rule.allow):
                out.append(f"{name} {item!r} is not on the allow-list.")
                break
    return out
