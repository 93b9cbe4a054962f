"""Indexes for every list the API and the dashboard sort or filter, and ``tool_calls.agent``.

- ``tool_calls.agent``: the agent of the call's run, copied by the store as the call is
  written, so one agent's calls newest first are one range of ``(agent, started_at)``
  instead of a join that sorts every call of the agent. Filled here from ``runs``.
- Runs newest first: all, by state, by agent and state, by agent and mode.
- Tool calls newest first: all, by agent, by status.
- Approvals by status (and agent), oldest first; handoffs by status, queue and agent,
  newest first; incidents by status (and agent), newest first; page deliveries by agent
  and by incident in time order; audit entries of one agent by action.

The single-column indexes ``ix_approvals_status``, ``ix_handoffs_queue``, ``ix_pages_agent``
and ``ix_pages_incident_id`` are replaced by the composite ones that start with them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INDEXES: list[tuple[str, str, list[str]]] = [
    ("ix_runs_started", "runs", ["started_at"]),
    ("ix_runs_status_started", "runs", ["status", "started_at"]),
    ("ix_runs_agent_status_started", "runs", ["agent", "status", "started_at"]),
    ("ix_runs_agent_mode_started", "runs", ["agent", "mode", "started_at"]),
    ("ix_tool_calls_agent_started", "tool_calls", ["agent", "started_at"]),
    ("ix_tool_calls_started", "tool_calls", ["started_at"]),
    ("ix_tool_calls_status_started", "tool_calls", ["status", "started_at"]),
    ("ix_approvals_status_created", "approvals", ["status", "created_at"]),
    ("ix_approvals_agent_status_created", "approvals", ["agent", "status", "created_at"]),
    ("ix_handoffs_created", "handoffs", ["created_at"]),
    ("ix_handoffs_status_created", "handoffs", ["status", "created_at"]),
    ("ix_handoffs_queue_status_created", "handoffs", ["queue", "status", "created_at"]),
    ("ix_handoffs_agent_status_created", "handoffs", ["agent", "status", "created_at"]),
    ("ix_incidents_opened", "incidents", ["opened_at"]),
    ("ix_incidents_status_opened", "incidents", ["status", "opened_at"]),
    ("ix_incidents_agent_status_opened", "incidents", ["agent", "status", "opened_at"]),
    ("ix_pages_at", "pages", ["at"]),
    ("ix_pages_agent_at", "pages", ["agent", "at"]),
    ("ix_pages_incident_at", "pages", ["incident_id", "at"]),
    ("ix_audit_log_agent_action_seq", "audit_log", ["agent", "action", "seq"]),
]

_REPLACED: list[tuple[str, str, list[str]]] = [
    ("ix_approvals_status", "approvals", ["status"]),
    ("ix_handoffs_queue", "handoffs", ["queue"]),
    ("ix_pages_agent", "pages", ["agent"]),
    ("ix_pages_incident_id", "pages", ["incident_id"]),
]


def upgrade() -> None:
    with op.batch_alter_table("tool_calls") as batch:
        batch.add_column(sa.Column("agent", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # a hash join, not one lookup per call
        op.execute(
            "UPDATE tool_calls SET agent = runs.agent FROM runs WHERE runs.id = tool_calls.run_id"
        )
    else:
        op.execute(
            "UPDATE tool_calls SET agent = "
            "(SELECT runs.agent FROM runs WHERE runs.id = tool_calls.run_id)"
        )
    for name, table, _ in _REPLACED:
        op.drop_index(name, table_name=table)
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    for name, table, columns in _REPLACED:
        op.create_index(name, table, columns)
    with op.batch_alter_table("tool_calls") as batch:
        batch.drop_column("agent")
