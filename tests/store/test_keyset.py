"""``store/keyset.py``: "strictly after this row" in a list's order, on the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from warden.store.keyset import after_row

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("newest_first", [True, False])
def test_after_row_continues_the_order_exactly(newest_first: bool) -> None:
    meta = sa.MetaData()
    rows_t = sa.Table(
        "rows",
        meta,
        sa.Column("at", sa.Integer),
        sa.Column("k1", sa.String),
        sa.Column("k2", sa.Integer),
    )
    engine = sa.create_engine("sqlite://")
    meta.create_all(engine)
    data = [{"at": a, "k1": k1, "k2": k2} for a in (1, 2) for k1 in ("x", "y") for k2 in (1, 2)]
    with engine.begin() as conn:
        conn.execute(sa.insert(rows_t), data)
        at = rows_t.c.at.desc() if newest_first else rows_t.c.at
        ordered = list(
            conn.execute(sa.select(rows_t.c.at, rows_t.c.k1, rows_t.c.k2).order_by(at, "k1", "k2"))
        )
        for i, row in enumerate(ordered):
            cond = after_row(
                rows_t.c.at, [rows_t.c.k1, rows_t.c.k2], tuple(row), newest_first=newest_first
            )
            rest = list(
                conn.execute(
                    sa.select(rows_t.c.at, rows_t.c.k1, rows_t.c.k2)
                    .where(cond)
                    .order_by(at, "k1", "k2")
                )
            )
            assert rest == ordered[i + 1 :]
    engine.dispose()


def test_a_cursor_of_the_wrong_length_is_refused() -> None:
    col = sa.column("at")
    with pytest.raises(ValueError, match="a cursor of 2 values"):
        after_row(col, [sa.column("id")], (T0,), newest_first=True)
