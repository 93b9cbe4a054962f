"""Handoffs with a lifecycle: who claimed a packet and when, who resolved it, when, what
they did (``resolution``, the person's action as JSON) and their ``note``.

Existing packets stay ``open`` with the new columns empty.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_COLUMNS = ("note", "resolution", "resolved_at", "resolved_by", "claimed_at", "claimed_by")


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolution", _JSON, nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        for column in _COLUMNS:
            batch.drop_column(column)
