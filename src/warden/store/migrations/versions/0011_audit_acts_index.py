"""Partial indexes on the audit log's acts (every entry but the ``run.decisions`` seals):
the audit page and ``/api/audit`` read a page of acts as one index range, however many
runs were sealed in between.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ACTS = sa.text("action <> 'run.decisions'")


def upgrade() -> None:
    op.create_index(
        "ix_audit_log_acts", "audit_log", ["seq"], sqlite_where=_ACTS, postgresql_where=_ACTS
    )
    op.create_index(
        "ix_audit_log_agent_acts",
        "audit_log",
        ["agent", "seq"],
        sqlite_where=_ACTS,
        postgresql_where=_ACTS,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_agent_acts", table_name="audit_log")
    op.drop_index("ix_audit_log_acts", table_name="audit_log")
