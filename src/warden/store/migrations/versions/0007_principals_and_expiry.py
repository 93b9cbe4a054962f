"""Principals, token expiry and rollout overrides.

- ``kill_switch_releases.requested_principal``, ``spec_changes.applied_principal`` and
  ``approved_principal``: two-person rules compare who acted (a token's person, or the OS
  user of the local CLI), not the ``WARDEN_ACTOR`` label. Rows written before carry NULL
  and are compared by their actor label, as they were.
- ``api_tokens.expires_at`` and ``last_used_at``: existing tokens never expire (NULL).
- ``runs.mode_override``: the run's mode was forced with ``dangerously_override_rollout``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kill_switch_releases") as batch:
        batch.add_column(sa.Column("requested_principal", sa.String(length=256), nullable=True))
    with op.batch_alter_table("spec_changes") as batch:
        batch.add_column(sa.Column("applied_principal", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("approved_principal", sa.String(length=256), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("mode_override", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("mode_override")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    with op.batch_alter_table("spec_changes") as batch:
        batch.drop_column("approved_principal")
        batch.drop_column("applied_principal")
    with op.batch_alter_table("kill_switch_releases") as batch:
        batch.drop_column("requested_principal")
