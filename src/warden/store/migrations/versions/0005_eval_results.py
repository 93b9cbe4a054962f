"""Eval results, read by the readiness review; runs indexed by end time (kill criteria).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_results",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("spec_version", sa.String(length=64), server_default="", nullable=False),
        sa.Column("set_name", sa.String(length=256), nullable=False),
        sa.Column("set_hash", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("passed_cases", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("pass_rate", sa.Float(), nullable=True),
        sa.Column("floor", sa.Float(), nullable=False),
        sa.Column("redteam_cases", sa.Integer(), nullable=False),
        sa.Column("redteam_executed", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_eval_results_agent_at", "eval_results", ["agent", "at"])
    op.create_index("ix_runs_agent_ended", "runs", ["agent", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_agent_ended", table_name="runs")
    op.drop_index("ix_eval_results_agent_at", table_name="eval_results")
    op.drop_table("eval_results")
