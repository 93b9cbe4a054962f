"""SQL tables. They mirror the core pydantic records and live only in the store adapter.

The schema itself is created and changed by Alembic migrations (``migrations/``); this
module is the single description both the migrations and the queries use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["metadata"]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSON: Any = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData()

spec_versions = sa.Table(
    "spec_versions",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("spec", JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec_version", sa.String(64), nullable=False, server_default=""),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("routing_key", sa.String(256)),
    sa.Column("input", JSON),
    sa.Column("output", JSON),
    sa.Column("reason", sa.Text),
    sa.Column("error_code", sa.String(64)),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime()),
    sa.Column("heartbeat_at", UTCDateTime()),
    sa.Column("steps", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tool_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("latency_s", sa.Float),
    sa.Column("host", sa.String(256), nullable=False, server_default=""),
    sa.Column("pid", sa.Integer, nullable=False, server_default="0"),
    sa.Column("mode_override", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_runs_agent_started", "agent", "started_at"),
    sa.Index("ix_runs_agent_ended", "agent", "ended_at"),
    sa.Index("ix_runs_status_heartbeat", "status", "heartbeat_at"),
    sa.Index("ix_runs_agent_routing_key", "agent", "routing_key"),
    # The lists (``list_runs``), newest first: every run, by state, by agent and state,
    # by agent and mode (``ix_runs_agent_started`` serves one agent's).
    sa.Index("ix_runs_started", "started_at"),
    sa.Index("ix_runs_status_started", "status", "started_at"),
    sa.Index("ix_runs_agent_status_started", "agent", "status", "started_at"),
    sa.Index("ix_runs_agent_mode_started", "agent", "mode", "started_at"),
)

tool_calls = sa.Table(
    "tool_calls",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("tool", sa.String(128), nullable=False),
    sa.Column("arguments", JSON, nullable=False),
    sa.Column("args_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decision", JSON),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("approval_id", sa.String(64)),
    sa.Column("result", JSON),
    sa.Column("error", sa.Text),
    sa.Column("error_code", sa.String(64)),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime()),
    sa.Column("latency_s", sa.Float, nullable=False, server_default="0"),
    # The run's agent, copied by the store from the stored run as the call is written
    # (``RunsSql.apply``), never from a record; NULL while its run is not stored.
    sa.Column("agent", sa.String(64)),
    sa.Index("ix_tool_calls_agent_started", "agent", "started_at"),
    sa.Index("ix_tool_calls_started", "started_at"),
    sa.Index("ix_tool_calls_status_started", "status", "started_at"),
)

model_calls = sa.Table(
    "model_calls",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False, server_default=""),
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float),
    sa.Column("latency_s", sa.Float, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("error", sa.Text),
    sa.Column("at", UTCDateTime(), nullable=False),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("tool", sa.String(128), nullable=False),
    sa.Column("arguments", JSON, nullable=False),
    sa.Column("args_hash", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime()),
    sa.Column("decided_by", sa.String(256)),
    sa.Column("decision_reason", sa.Text),
    sa.Index("ix_approvals_status_created", "status", "created_at"),
    sa.Index("ix_approvals_agent_status_created", "agent", "status", "created_at"),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("queue", sa.String(128), nullable=False),
    sa.Column("trigger", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("input", JSON),
    sa.Column("steps", JSON, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(256)),
    sa.Column("claimed_at", UTCDateTime()),
    sa.Column("resolved_by", sa.String(256)),
    sa.Column("resolved_at", UTCDateTime()),
    sa.Column("resolution", JSON),
    sa.Column("note", sa.Text),
    sa.Index("ix_handoffs_created", "created_at"),
    sa.Index("ix_handoffs_status_created", "status", "created_at"),
    sa.Index("ix_handoffs_queue_status_created", "queue", "status", "created_at"),
    sa.Index("ix_handoffs_agent_status_created", "agent", "status", "created_at"),
)

kill_switches = sa.Table(
    "kill_switches",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("engaged", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(256)),
    sa.Column("changed_at", UTCDateTime()),
)

kill_switch_events = sa.Table(
    "kill_switch_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agent", sa.String(64), nullable=False, index=True),
    sa.Column("engaged", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("tool", sa.String(128), nullable=False),
    sa.Column("args_hash", sa.String(64), nullable=False),
    sa.Column("result", JSON),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# -- audit log (tamper-evident: see warden.core.audit) ------------------------------------

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("agent", sa.String(64), index=True),
    sa.Column("subject", sa.String(128)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("before", sa.Text, nullable=False),
    sa.Column("after", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(96)),  # HMAC under the audit key; NULL: written without one
    # One agent's entries of some actions, newest first (the agent page's kill-switch
    # timeline), without reading the ``run.decisions`` entry of each of its runs.
    sa.Index("ix_audit_log_agent_action_seq", "agent", "action", "seq"),
    # People's and Warden's acts without the one ``run.decisions`` seal per finished run
    # (the audit page and /api/audit): partial, so a page of acts is one index range.
    sa.Index(
        "ix_audit_log_acts",
        "seq",
        sqlite_where=sa.text("action <> 'run.decisions'"),
        postgresql_where=sa.text("action <> 'run.decisions'"),
    ),
    sa.Index(
        "ix_audit_log_agent_acts",
        "agent",
        "seq",
        sqlite_where=sa.text("action <> 'run.decisions'"),
        postgresql_where=sa.text("action <> 'run.decisions'"),
    ),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(96)),
)

# -- rollout ------------------------------------------------------------------------------

rollout_states = sa.Table(
    "rollout_states",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec_version", sa.String(64), nullable=False, server_default=""),
    sa.Column("stage_since", UTCDateTime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
)

rollout_transitions = sa.Table(
    "rollout_transitions",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_stage", sa.String(16)),
    sa.Column("to_stage", sa.String(16), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec_version", sa.String(64), nullable=False, server_default=""),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("routing_key", sa.String(256)),
    sa.Column("human", JSON, nullable=False),
    sa.Column("proposed", JSON, nullable=False),
    sa.Column("agreed", sa.Boolean, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("run_started_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Index("ix_outcomes_agent_hash", "agent", "spec_hash"),
)

# -- incidents, pages, drills -------------------------------------------------------------

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("criterion", sa.String(128), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("samples", sa.Integer, nullable=False),
    sa.Column("window_s", sa.Float, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("applied", sa.Text, nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec_version", sa.String(64), nullable=False, server_default=""),
    sa.Column("dedup_key", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("acked_at", UTCDateTime()),
    sa.Column("acked_by", sa.String(256)),
    sa.Column("escalated_at", UTCDateTime()),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Index("ix_incidents_agent_opened", "agent", "opened_at"),
    sa.Index("ix_incidents_dedup_status", "dedup_key", "status"),
    sa.Index("ix_incidents_opened", "opened_at"),
    sa.Index("ix_incidents_status_opened", "status", "opened_at"),
    sa.Index("ix_incidents_agent_status_opened", "agent", "status", "opened_at"),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("incident_id", sa.String(64)),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("recipient", sa.String(32), nullable=False, server_default=""),
    sa.Column("event_action", sa.String(16), nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("test", sa.Boolean, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_pages_at", "at"),
    sa.Index("ix_pages_agent_at", "agent", "at"),
    sa.Index("ix_pages_incident_at", "incident_id", "at"),
)

drills = sa.Table(
    "drills",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False, index=True),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("propagation_s", sa.Float),
    sa.Column("runs", sa.Integer, nullable=False),
    sa.Column("rerouted", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("routing_keys", JSON, nullable=False),
)

# -- scope changes ------------------------------------------------------------------------

spec_changes = sa.Table(
    "spec_changes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("from_hash", sa.String(64)),
    sa.Column("to_hash", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("items", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("applied_by", sa.String(256), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("approved_by", sa.String(256)),
    sa.Column("approved_at", UTCDateTime()),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("override_stability", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("applied_seq", sa.Integer),
    sa.Column("applied_principal", sa.String(256)),
    sa.Column("approved_principal", sa.String(256)),
    sa.Index("ix_spec_changes_agent_created", "agent", "created_at"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("agent", sa.String(64)),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("expires_at", UTCDateTime()),
    sa.Column("last_used_at", UTCDateTime()),
)

kill_switch_releases = sa.Table(
    "kill_switch_releases",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("requested_by", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested_at", UTCDateTime(), nullable=False),
    sa.Column("requested_principal", sa.String(256)),
)

eval_results = sa.Table(
    "eval_results",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("spec_version", sa.String(64), nullable=False, server_default=""),
    sa.Column("set_name", sa.String(256), nullable=False),
    sa.Column("set_hash", sa.String(64), nullable=False),
    sa.Column("cases", sa.Integer, nullable=False),
    sa.Column("passed_cases", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("pass_rate", sa.Float),
    sa.Column("floor", sa.Float, nullable=False),
    sa.Column("redteam_cases", sa.Integer, nullable=False),
    sa.Column("redteam_executed", sa.Integer, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_eval_results_agent_at", "agent", "at"),
)

# -- rollups -------------------------------------------------------------------------------
# Per-minute and per-hour totals of the runs that ended, kept as they end (store.rollups).

run_rollups = sa.Table(
    "run_rollups",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("spec_hash", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(16), primary_key=True),
    sa.Column("resolution_s", sa.Integer, primary_key=True),
    sa.Column("bucket_start", UTCDateTime(), primary_key=True),
    sa.Column("finished", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resolved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("escalated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errored", sa.Integer, nullable=False, server_default="0"),
    sa.Column("killed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fallback", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tool_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("denied_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("other_cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Index("ix_run_rollups_agent_res_bucket", "agent", "resolution_s", "bucket_start"),
)

run_latency_rollups = sa.Table(
    "run_latency_rollups",
    metadata,
    sa.Column("agent", sa.String(64), primary_key=True),
    sa.Column("spec_hash", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(16), primary_key=True),
    sa.Column("resolution_s", sa.Integer, primary_key=True),
    sa.Column("bucket_start", UTCDateTime(), primary_key=True),
    sa.Column("bin", sa.Integer, primary_key=True),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_run_latency_rollups_agent_res_bucket", "agent", "resolution_s", "bucket_start"),
)
