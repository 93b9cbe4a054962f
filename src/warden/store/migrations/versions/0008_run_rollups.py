"""Run rollups: per-minute and per-hour totals of ended runs (``warden.store.rollups``),
filled from the runs already stored so that metrics read the same after the upgrade.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warden.store.rollups import rebuild

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_KEY = ("agent", "spec_hash", "mode", "resolution_s", "bucket_start")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("agent", sa.String(length=64), primary_key=True),
        sa.Column("spec_hash", sa.String(length=64), primary_key=True),
        sa.Column("mode", sa.String(length=16), primary_key=True),
        sa.Column("resolution_s", sa.Integer(), primary_key=True),
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
    ]


def upgrade() -> None:
    counts = [
        sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        for name in (
            "finished",
            "resolved",
            "escalated",
            "errored",
            "killed",
            "fallback",
            "tool_calls",
            "denied_calls",
            "failed_calls",
        )
    ]
    op.create_table(
        "run_rollups",
        *_key_columns(),
        *counts,
        sa.Column("cost_usd", sa.Float(), nullable=False, server_default="0"),
        sa.Column("other_cost_usd", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_run_rollups_agent_res_bucket", "run_rollups", ["agent", "resolution_s", "bucket_start"]
    )
    op.create_table(
        "run_latency_rollups",
        *_key_columns(),
        sa.Column("bin", sa.Integer(), primary_key=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_run_latency_rollups_agent_res_bucket",
        "run_latency_rollups",
        ["agent", "resolution_s", "bucket_start"],
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_run_latency_rollups_agent_res_bucket", table_name="run_latency_rollups")
    op.drop_table("run_latency_rollups")
    op.drop_index("ix_run_rollups_agent_res_bucket", table_name="run_rollups")
    op.drop_table("run_rollups")
