"""Keyset pagination: the condition "strictly after this row" in a list's own order.

Every list that can grow is ordered by a time column and then by its key (ids, a
sequence number), and the next page starts strictly after the last row shown. The
condition is written so that an index on ``(..., time)`` bounds it: a plain range on the
time column (``<=`` newest first, ``>=`` oldest first), and inside it the tie-break on
the key, so a page deep in a long list costs what the first page costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

__all__ = ["after_row"]


def after_row(
    time_col: sa.ColumnElement[datetime],
    keys: Sequence[sa.ColumnElement[Any]],
    cursor: Sequence[Any],
    *,
    newest_first: bool,
) -> sa.ColumnElement[bool]:
    """The rows strictly after ``cursor`` in the order ``time_col`` (descending when
    ``newest_first``, else ascending), then each of ``keys`` ascending.

    Args:
        time_col: The list's time column.
        keys: The tie-breaking columns after it, each ascending (e.g. an id).
        cursor: The last row shown: its time, then one value per key.
        newest_first: Whether the list is newest first.

    Returns:
        A condition for the query's ``WHERE``.
    """
    at, rest = cursor[0], list(cursor[1:])
    if len(rest) != len(keys):
        raise ValueError(f"a cursor of {len(keys) + 1} values is needed, got {len(cursor)}")
    tie: sa.ColumnElement[bool] = sa.false()
    for col, value in reversed(list(zip(keys, rest, strict=True))):
        tie = sa.or_(col > value, sa.and_(col == value, tie))
    if newest_first:
        return sa.and_(time_col <= at, sa.or_(time_col < at, sa.and_(time_col == at, tie)))
    return sa.and_(time_col >= at, sa.or_(time_col > at, sa.and_(time_col == at, tie)))
