"""Pages of a list and their keyset cursors, as ``/api/runs`` serves them.

A list endpoint takes ``limit`` (bounded) and ``cursor`` (from the previous page), asks
the store for ``limit + 1`` rows strictly after the cursor's row, and answers
``{"items": [...], "next_cursor": "..."}``: ``next_cursor`` names the last item shown,
and is None on the last page. A cursor is opaque to clients: URL-safe base64 of a JSON
array, the row's time (ISO 8601) then its key (ids, sequence numbers).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

from warden.errors import ConfigError

__all__ = ["MAX_LIMIT", "Page", "decode_cursor", "encode_cursor", "page_of"]

MAX_LIMIT = 1000
"""The most items one page of a list endpoint holds."""

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, in the list's order."""

    items: list[T]
    next_cursor: str | None = None
    """Pass as ``cursor`` for the next page; None on the last page."""


def encode_cursor(at: datetime, *key: str | int) -> str:
    """The cursor of a row whose time is ``at`` and whose key is ``key``."""
    raw = json.dumps([at.isoformat(), *key]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, *kinds: type[str] | type[int]) -> tuple[Any, ...]:
    """``(at, *key)`` from a cursor ``encode_cursor`` made, the key's parts of ``kinds``.

    Raises:
        ConfigError: Not a cursor of this shape (400).
    """
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(decoded, list):
            raise ValueError("not a list")
        values = cast(list[Any], decoded)
        if len(values) != len(kinds) + 1:
            raise ValueError("wrong shape")
        at = datetime.fromisoformat(str(values[0]))
        if at.tzinfo is None:
            raise ValueError("no time zone")
        key: list[Any] = []
        for kind, value in zip(kinds, values[1:], strict=True):
            if type(value) is not kind:
                raise ValueError("wrong key type")
            key.append(value)
        return (at, *key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a cursor from this API: {cursor!r}") from exc


def page_of(rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The page of ``rows`` (fetched with ``limit + 1``): the first ``limit``, and the
    cursor of the last of them when there were more."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items=items, next_cursor=cursor_of(items[-1]) if more else None)
