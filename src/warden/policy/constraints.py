"""Argument constraints: enum, regex pattern, numeric range, length, allow-list, required.

Two of them match text, and both run on RE2 (``google-re2``), whose matching time is linear
in the length of the input, so no argument an agent passes can stall the policy:

- ``pattern`` is a full match of the spec's regular expression in RE2 syntax (the spec
  refuses, when it loads, a pattern RE2 cannot compile: backreferences, lookaround).
- ``allow`` is a glob allow-list matched against the whole value (see ``glob_regex``). A
  glob's wildcards stay inside one part of an address: ``*`` and ``?`` never match ``@``,
  ``/``, ``,`` or whitespace, so ``*@example.com`` accepts ``bob@example.com`` and not
  ``attacker@evil.com,bob@example.com``, ``attacker@evil.com#@example.com`` or
  ``attacker@evil.com (x@example.com``. A value with an ``@`` must also be exactly one
  bare e-mail address as the standard library's parser reads it (``email.utils``), so a
  display name, a comment, angle brackets or a second address are refused even when a
  glob would accept the characters.
"""

from __future__ import annotations

from email.utils import getaddresses, parseaddr
from functools import lru_cache
from typing import Any, cast

import re2  # pyright: ignore[reportMissingTypeStubs]

from warden.core.spec import ArgumentConstraint

__all__ = ["compiled_pattern", "glob_regex", "is_single_address", "violations"]

_SEPARATORS = r"@/,\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\p{Z}"
"""What a wildcard never matches: ``@``, ``/``, ``,`` and every character Python's
``str.isspace`` counts as whitespace (ASCII whitespace, the separators U+001C-U+001F and
U+0085, and the Unicode categories Zs, Zl, Zp), as an RE2 character-class body."""

_WILDCARD = f"[^{_SEPARATORS}]"


def _options() -> Any:
    options: Any = re2.Options()
    options.log_errors = False  # RE2 would print every parse error to stderr
    return options


@lru_cache(maxsize=1024)
def compiled_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (cached; the spec already checked that it compiles).

    Args:
        pattern: A regular expression in RE2 syntax.

    Returns:
        An RE2 regular expression object (``fullmatch``, ``search``, ...).
    """
    return re2.compile(pattern, _options())  # pyright: ignore[reportUnknownMemberType]


def _full_match(regex: Any, text: str) -> bool:
    """``regex`` matches the whole of ``text``; text RE2 cannot take (a lone surrogate, which
    has no UTF-8 form) matches nothing, so it is refused rather than crashing the policy."""
    try:
        return regex.fullmatch(text) is not None
    except UnicodeEncodeError:
        return False


def _pattern_matches(pattern: str, text: str) -> bool:
    """The spec's ``pattern`` matches all of ``text``. A pattern RE2 cannot compile (a spec
    built without validation) matches nothing: the policy fails closed, it never raises."""
    try:
        regex = compiled_pattern(pattern)
    except Exception:  # re2.error
        return False
    return _full_match(regex, text)


def _literal(ch: str) -> str:
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{ord(ch):x}}}"


def glob_regex(glob: str) -> str:
    """Translate an allow-list glob to an RE2 regular expression matching the whole value.

    Like ``fnmatch``: ``*`` is any run of characters, ``?`` one character, ``[abc]`` /
    ``[a-z]`` one of a set, ``[!abc]`` one not in it, and a ``[`` without its ``]`` is
    literal; matching is case-sensitive. Unlike ``fnmatch``, ``*``, ``?`` and ``[!...]``
    never match ``@``, ``/``, ``,`` or whitespace, so a wildcard stays inside one part of
    an address or a path: write ``https://example.com/*/*`` for two path segments.

    Args:
        glob: The pattern from the spec, e.g. ``"*@example.com"``.

    Returns:
        The regular expression, anchored at both ends (``^...$``).
    """
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ch = glob[i]
        i += 1
        if ch == "*":
            if not out or out[-1] != f"{_WILDCARD}*":  # ``**`` is ``*``
                out.append(f"{_WILDCARD}*")
        elif ch == "?":
            out.append(_WILDCARD)
        elif ch == "[":
            j = i
            if j < n and glob[j] == "!":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                out.append(_literal("["))
                continue
            body, i = glob[i:j], j + 1
            negated = body.startswith("!")
            if negated:
                body = body[1:]
            members: list[str] = []
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    lo, hi = body[k], body[k + 2]
                    if lo <= hi:  # fnmatch drops a reversed range such as [z-a]
                        members.append(f"{_literal(lo)}-{_literal(hi)}")
                    k += 3
                else:
                    members.append(_literal(body[k]))
                    k += 1
            inner = "".join(members)
            if negated:
                out.append(f"[^{inner}{_SEPARATORS}]")
            elif inner:
                out.append(f"[{inner}]")
            else:
                out.append("[^\\x{0}-\\x{10ffff}]")  # an empty set matches nothing
        else:
            out.append(_literal(ch))
    return "^" + "".join(out) + "$"


@lru_cache(maxsize=1024)
def _compiled_glob(glob: str) -> Any:
    return compiled_pattern(glob_regex(glob))


_ADDRESS_SYNTAX = frozenset('()<>[]:;,"\\')
"""RFC 5322 syntax for display names, comments, routes, domain literals, quoting, groups
and lists: a bare address has none of it."""


def is_single_address(value: str) -> bool:
    """True when ``value`` is exactly one bare e-mail address.

    The value must hold one ``@`` and none of ``( ) < > [ ] : ; , " \\`` or whitespace, and
    both of the standard library's parsers (``email.utils.getaddresses`` and ``parseaddr``)
    must read it back unchanged as one address without a display name. So
    ``bob@example.com`` passes; ``Bob <bob@example.com>``, ``<bob@example.com>``,
    ``bob(comment)@example.com``, ``a@x.com,b@y.com``, ``"a b"@example.com`` and
    ``bob@example.com`` with trailing whitespace do not. The syntax check comes first, so
    the parser (which recurses once per nested comment) never sees adversarial nesting.
    """
    if value.count("@") != 1 or any(ch in _ADDRESS_SYNTAX or ch.isspace() for ch in value):
        return False
    return getaddresses([value]) == [("", value)] and parseaddr(value) == ("", value)


def _allowed(item: str, globs: list[str]) -> bool:
    if "@" in item and not is_single_address(item):
        return False
    return any(_full_match(_compiled_glob(g), item) for g in globs)


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
        not isinstance(value, str) or not _pattern_matches(rule.pattern, value)
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
            if not isinstance(item, str) or not _allowed(item, rule.allow):
                out.append(f"{name} {item!r} is not on the allow-list.")
                break
    return out
