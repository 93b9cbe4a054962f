"""Pending requests to release a kill switch (a second person must approve).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kill_switch_releases",
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agent"),
    )


def downgrade() -> None:
    op.drop_table("kill_switch_releases")
