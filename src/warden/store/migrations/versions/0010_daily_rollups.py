"""Per-day run rollups beside the per-minute and per-hour ones: long windows (a 40-day
canary gate, 14-day charts) read tens of buckets instead of hundreds. Recomputed from the
stored runs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from warden.store.rollups import rebuild

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild(op.get_bind())


def downgrade() -> None:
    op.execute("DELETE FROM run_rollups WHERE resolution_s = 86400")
    op.execute("DELETE FROM run_latency_rollups WHERE resolution_s = 86400")
