"""Runs in SQL: batches of run records, runs, tool calls, daily usage, stalled runs.

Writes of run records arrive in batches (``apply``) and are upserts keyed by ids, so a
batch replayed from the spool has the same effect as once. A run in a terminal state is
never moved back to ``running`` by a late or replayed record.

Handoffs and idempotency keys live here too: they are written only as part of a batch
(``HandoffCreated``, ``IdempotencyRecorded``), and reading them is one query each. So do
the two questions an operator's command asks before it acts: which run an id prefix names
(``find_run_ids``), and whether the store has ever seen an agent (``agent_seen``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.decisions import Decision
from warden.core.events import (
    Event,
    HandoffCreated,
    IdempotencyRecorded,
    ModelCallRecorded,
    RunHeartbeat,
    RunRecorded,
    ToolCallRecorded,
)
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    Handoff,
    IdempotencyRecord,
    ModelCallRecord,
    RunDetail,
    RunFilter,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.store import rollups
from warden.store import tables as t
from warden.store.audit import RunSeal
from warden.store.base import SqlBase
from warden.store.keyset import after_row

__all__ = ["RunsSql"]

_SQLITE_PART = 500
"""Events ``apply`` writes on SQLite before it checks for a waiting state change."""


class RunsSql(SqlBase):
    """Run, tool-call, handoff and idempotency methods of ``SqlStore``."""

    # -- batched records ------------------------------------------------------------------

    def apply(self, events: Sequence[Event]) -> None:
        """Apply a batch of events in one transaction (upserts; safe to replay).

        On SQLite, a state change (a kill's record, a release) may be waiting for the
        database's only write lock while a long batch holds it. So the batch is written
        in parts of 500 events. When a state change is waiting after a part, that part
        commits, and the rest waits behind the state change in a new transaction. A batch
        that fails part way is spooled whole and replayed, which the upserts make the
        same as applying it once.

        Raises:
            StoreUnavailable: The database cannot be reached.
            ConfigError: The database refused a value.
        """
        step = _SQLITE_PART if self.dialect == "sqlite" else max(len(events), 1)
        parts = [_rows(events[i : i + step]) for i in range(0, len(events), step)]
        done = 0
        while done < len(parts):
            with self._bulk_tx() as conn:
                while done < len(parts):
                    self._write_sealed(conn, parts[done])
                    done += 1
                    if done < len(parts) and self._state_change_waiting():
                        break  # commit this much; the rest goes after the state change

    def _write_sealed(self, conn: Connection, rows: _Rows) -> None:
        """``_write_rows``, and in the same transaction one ``run.decisions`` audit entry
        per run the part finishes: its tool calls and their policy decisions, sealed
        (``warden.store.audit.RunSeal``; nothing when the part finishes no run), and the
        runs it finishes added to the metrics' rollups (``warden.store.rollups``)."""
        seal = RunSeal.begin(conn, self.dialect, rows.runs.values(), (k[0] for k in rows.tools))
        self._write_rows(conn, rows)
        if seal is not None:
            seal.finish()
            _roll_up(conn, seal)

    def _write_rows(self, conn: Connection, rows: _Rows) -> None:
        self._upsert(
            conn,
            t.runs,
            list(rows.runs.values()),
            ["id"],
            where=lambda tbl: tbl.c.status == RunStatus.RUNNING.value,
        )
        if rows.runs:
            _relabel_tool_calls(conn, list(rows.runs))
        if rows.tools:
            _label_tool_calls(conn, rows.tools)
        # An ended tool call is final: a later record of it (a replay, or a forged rewrite
        # of a denied call as allowed) never changes its decision or status.
        self._upsert(
            conn,
            t.tool_calls,
            list(rows.tools.values()),
            ["run_id", "seq"],
            where=lambda tbl: tbl.c.ended_at.is_(None),
        )
        self._upsert(conn, t.model_calls, list(rows.models.values()), ["run_id", "seq"])
        self._upsert(conn, t.handoffs, rows.handoffs, ["id"], update=False)
        self._upsert(conn, t.idempotency_keys, rows.keys, ["key"], update=False)
        for beat in rows.beats:
            conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.id.in_(beat.run_ids))
                .where(t.runs.c.status == RunStatus.RUNNING.value)
                .values(heartbeat_at=beat.at)
            )

    # -- runs -----------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunDetail | None:
        """A run with its tool calls, model calls, approvals and handoffs (step order)."""
        with self._tx() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            tcs = self._run_rows(conn, t.tool_calls, run_id, "seq")
            mcs = self._run_rows(conn, t.model_calls, run_id, "seq")
            aps = self._run_rows(conn, t.approvals, run_id, "created_at")
            hos = self._run_rows(conn, t.handoffs, run_id, "created_at")
        return RunDetail(
            run=RunRecord.model_validate(dict(row)),
            tool_calls=[_tool_record(r) for r in tcs],
            model_calls=[ModelCallRecord.model_validate(r) for r in mcs],
            approvals=[ApprovalRequest.model_validate(r) for r in aps],
            handoffs=[Handoff.model_validate(r) for r in hos],
        )

    @staticmethod
    def _run_rows(
        conn: Connection, table: sa.Table, run_id: str, order: str
    ) -> list[dict[str, Any]]:
        q = sa.select(table).where(table.c.run_id == run_id).order_by(table.c[order])
        return [dict(r) for r in conn.execute(q).mappings()]

    def find_run_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of the runs that start with ``prefix`` (case-sensitive), in id order, at most
        ``limit``: one indexed query.

        ``LIKE prefix || '%'`` with the prefix's ``%``, ``_`` and escape character escaped,
        so they match themselves. On SQLite, whose ``LIKE`` ignores case and cannot search
        the primary key's (binary) index, the range ``prefix <= id < next(prefix)`` bounds it
        too: the index is searched, and the match is case-sensitive as on PostgreSQL (where
        ``LIKE`` uses the index under the C collation or a ``pattern_ops`` index).
        """
        col = t.runs.c.id
        q = sa.select(col).where(col.startswith(prefix, autoescape=True))
        if self.dialect == "sqlite" and prefix:
            q = q.where(col >= prefix)
            upper = _after_prefix(prefix)
            if upper is not None:
                q = q.where(col < upper)
        with self._tx() as conn:
            return list(conn.execute(q.order_by(col).limit(limit)).scalars())

    def list_runs(self, where: RunFilter) -> list[RunRecord]:
        """Runs matching ``where``, newest first, at most ``where.limit``."""
        q = sa.select(t.runs).order_by(t.runs.c.started_at.desc(), t.runs.c.id).limit(where.limit)
        if where.agent is not None:
            q = q.where(t.runs.c.agent == where.agent)
        if where.status is not None:
            q = q.where(t.runs.c.status == where.status.value)
        if where.mode is not None:
            q = q.where(t.runs.c.mode == where.mode.value)
        if where.spec_hash is not None:
            q = q.where(t.runs.c.spec_hash == where.spec_hash)
        if where.mode_override is not None:
            q = q.where(t.runs.c.mode_override.is_(where.mode_override))
        if where.since is not None:
            q = q.where(t.runs.c.started_at >= where.since)
        if where.until is not None:
            q = q.where(t.runs.c.started_at < where.until)
        if where.denied_only:
            # From the denied calls (index on status, or agent), not run by run: a
            # correlated EXISTS walks every run when denials are rare (26 s at 1M calls).
            tc = t.tool_calls.c
            denied = sa.select(tc.run_id).where(tc.status == ToolCallStatus.DENIED.value)
            if where.agent is not None:
                denied = denied.where(tc.agent == where.agent)
            if where.since is not None:  # a run's calls start after it does
                denied = denied.where(tc.started_at >= where.since)
            q = q.where(t.runs.c.id.in_(denied))
        if where.after is not None:  # keyset cursor: strictly after (started_at, id) in this order
            at, rid = where.after
            q = q.where(
                sa.or_(
                    t.runs.c.started_at < at,
                    sa.and_(t.runs.c.started_at == at, t.runs.c.id > rid),
                )
            )
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [RunRecord.model_validate(dict(r)) for r in rows]

    def list_tool_calls(
        self,
        *,
        agent: str | None = None,
        tool: str | None = None,
        status: ToolCallStatus | None = None,
        since: datetime | None = None,
        after: tuple[datetime, str, int] | None = None,
        limit: int = 100,
    ) -> list[ToolCallRecord]:
        """Tool calls with their decisions, newest first, at most ``limit``.

        Args:
            agent: Only calls of this agent's runs (``tool_calls.agent``, which the store
                copies from the stored run: one range of ``(agent, started_at)``).
            tool: Only calls of this tool.
            status: Only calls in this status.
            since: Only calls started at or after this time.
            after: Keyset cursor ``(started_at, run_id, seq)`` of the last call of the
                previous page: only calls strictly after it in this order.
            limit: At most this many calls.
        """
        tc = t.tool_calls
        q = sa.select(*_TOOL_CALL_COLUMNS)
        q = q.order_by(tc.c.started_at.desc(), tc.c.run_id, tc.c.seq).limit(limit)
        if agent is not None:
            q = q.where(tc.c.agent == agent)
        if after is not None:
            q = q.where(
                after_row(tc.c.started_at, [tc.c.run_id, tc.c.seq], after, newest_first=True)
            )
        if tool is not None:
            q = q.where(tc.c.tool == tool)
        if status is not None:
            q = q.where(tc.c.status == status.value)
        if since is not None:
            q = q.where(tc.c.started_at >= since)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [_tool_record(dict(r)) for r in rows]

    def daily_usage(self, agent: str, since: datetime) -> tuple[int, float]:
        """``(runs started, model cost USD)`` of ``agent`` since ``since``."""
        q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(t.runs.c.cost_usd), 0.0)).where(
            t.runs.c.agent == agent, t.runs.c.started_at >= since
        )
        with self._tx() as conn:
            count, cost = conn.execute(q).one()
        return int(count), float(cost)

    def untrusted_reads(
        self, agent: str, routing_key: str, tools: Sequence[str], since: datetime
    ) -> list[tuple[str, str]]:
        """``(run id, tool)`` of the calls of ``tools`` that ran (succeeded or failed) in
        runs of ``agent`` with ``routing_key`` started since ``since``; newest first, at
        most 10 (on the ``(agent, routing_key)`` index)."""
        if not tools:
            return []
        r, tc = t.runs.c, t.tool_calls.c
        q = (
            sa.select(r.id, tc.tool)
            .select_from(t.runs.join(t.tool_calls, tc.run_id == r.id))
            .where(
                r.agent == agent,
                r.routing_key == routing_key,
                r.started_at >= since,
                tc.tool.in_(list(tools)),
                tc.status.in_([ToolCallStatus.SUCCEEDED.value, ToolCallStatus.FAILED.value]),
            )
            .order_by(r.started_at.desc(), tc.seq.desc())
            .limit(10)
        )
        with self._tx() as conn:
            return [(str(a), str(b)) for a, b in conn.execute(q)]

    def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
        """End as ``interrupted`` each running run whose heartbeat is older than
        ``stale_before``, cancel its pending approvals, and seal it in the audit chain."""
        stale = sa.and_(
            t.runs.c.status == RunStatus.RUNNING.value,
            sa.func.coalesce(t.runs.c.heartbeat_at, t.runs.c.started_at) < stale_before,
        )
        r = t.runs.c
        with self._locked_tx() as conn:
            found = conn.execute(
                sa.select(
                    r.id, r.agent, r.mode, r.spec_hash, r.mode_override, r.cost_usd, r.latency_s
                ).where(stale)
            ).mappings()
            ending: list[dict[str, Any]] = [
                dict(row) | {"status": RunStatus.INTERRUPTED.value, "ended_at": at} for row in found
            ]
            ids: list[str] = [row["id"] for row in ending]
            # Sealed like any run that ends: its decisions (and a forced mode) enter the
            # audit chain in this transaction.
            seal = RunSeal.begin(conn, self.dialect, ending, ()) if ending else None
            if ids:
                conn.execute(
                    sa.update(t.runs)
                    .where(t.runs.c.id.in_(ids), t.runs.c.status == RunStatus.RUNNING.value)
                    .values(
                        status=RunStatus.INTERRUPTED.value,
                        ended_at=at,
                        reason="The process running it stopped sending heartbeats "
                        "(crashed or was killed) before the run finished.",
                        error_code="run.interrupted",
                    )
                )
                conn.execute(
                    sa.update(t.approvals)
                    .where(
                        t.approvals.c.run_id.in_(ids),
                        t.approvals.c.status == ApprovalStatus.PENDING.value,
                    )
                    .values(
                        status=ApprovalStatus.CANCELLED.value,
                        decided_at=at,
                        decided_by="warden",
                        decision_reason="run interrupted",
                    )
                )
            if seal is not None:
                seal.finish()
                _roll_up(conn, seal)
        return ids

    # -- agents ---------------------------------------------------------------------------

    def agent_seen(self, agent: str) -> bool:
        """Whether the store has a trace of ``agent``: a stored spec version or spec change
        (a process opened with its spec, or ``warden spec apply``), a run (the SDK or OTLP
        ingest), a rollout, or a kill-switch row. One query, each part on an index."""
        q = sa.select(sa.or_(*(sa.exists().where(c == agent) for c in _agent_columns())))
        with self._tx() as conn:
            return bool(conn.execute(q).scalar())

    def seen_agents(self) -> list[str]:
        """Every agent ``agent_seen`` knows, sorted (reads the runs' agent index whole)."""
        q = sa.union(*(sa.select(c) for c in _agent_columns()))
        with self._tx() as conn:
            return sorted(str(a) for a in conn.execute(q).scalars())

    # -- handoffs, idempotency ------------------------------------------------------------

    def list_handoffs(
        self,
        queue: str | None = None,
        *,
        status: str | None = None,
        agent: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[Handoff]:
        """Handoff packets, newest first (then by id).

        Args:
            queue: Only packets of this queue.
            status: Only packets in this status (e.g. ``open``).
            agent: Only packets of this agent's runs.
            after: Keyset cursor ``(created_at, id)`` of the last packet of the previous
                page: only packets strictly after it in this order.
            limit: At most this many (None: all; every page and endpoint passes one).
        """
        h = t.handoffs.c
        q = sa.select(t.handoffs).where(*_handoff_filter(queue, status, agent))
        if after is not None:
            q = q.where(after_row(h.created_at, [h.id], after, newest_first=True))
        q = q.order_by(h.created_at.desc(), h.id)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [Handoff.model_validate(dict(r)) for r in rows]

    def count_handoffs(
        self,
        queue: str | None = None,
        *,
        status: str | None = None,
        agents: Collection[str] | None = None,
    ) -> int:
        """How many handoff packets match (``COUNT`` in SQL, on the status index).

        Args:
            queue: Only packets of this queue.
            status: Only packets in this status (e.g. ``open``).
            agents: Only packets of these agents (None: of every agent).
        """
        q = sa.select(sa.func.count()).select_from(t.handoffs)
        q = q.where(*_handoff_filter(queue, status, None))
        if agents is not None:
            q = q.where(t.handoffs.c.agent.in_(sorted(agents)))
        with self._tx() as conn:
            return int(conn.execute(q).scalar_one())

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The result of a write applied under ``key``, or None."""
        with self._tx() as conn:
            row = (
                conn.execute(sa.select(t.idempotency_keys).where(t.idempotency_keys.c.key == key))
                .mappings()
                .first()
            )
        return IdempotencyRecord.model_validate(dict(row)) if row else None


def _handoff_filter(
    queue: str | None, status: str | None, agent: str | None
) -> list[sa.ColumnElement[bool]]:
    h = t.handoffs.c
    found: list[sa.ColumnElement[bool]] = []
    if queue is not None:
        found.append(h.queue == queue)
    if status is not None:
        found.append(h.status == status)
    if agent is not None:
        found.append(h.agent == agent)
    return found


_TOOL_CALL_COLUMNS = [c for c in t.tool_calls.columns if c.name != "agent"]
"""What a ``ToolCallRecord`` is read from (``agent`` is the store's copy of the run's)."""


def _label_tool_calls(conn: Connection, tools: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Set each tool-call row's ``agent`` to its stored run's (in the writing transaction,
    after the batch's runs are written; None while the run is not stored). A record never
    says which agent a call belongs to: only the run does."""
    ids = sorted({rid for rid, _ in tools})
    found = conn.execute(sa.select(t.runs.c.id, t.runs.c.agent).where(t.runs.c.id.in_(ids)))
    agents: dict[str, str] = {str(rid): str(agent) for rid, agent in found}
    for (rid, _), row in tools.items():
        row["agent"] = agents.get(rid)


def _relabel_tool_calls(conn: Connection, run_ids: list[str]) -> None:
    """Give the stored tool calls of ``run_ids`` their run's agent where it differs: calls
    written before their run was (their ``agent`` is NULL). One update on the primary
    key's ``run_id`` prefix; it changes no row in the usual order (run first)."""
    tc = t.tool_calls
    run_agent = sa.select(t.runs.c.agent).where(t.runs.c.id == tc.c.run_id).scalar_subquery()
    conn.execute(
        sa.update(tc)
        .where(
            tc.c.run_id.in_(sorted(run_ids)),
            run_agent.is_not(None),
            tc.c.agent.is_distinct_from(run_agent),
        )
        .values(agent=run_agent)
    )


def _after_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (code point
    order, which is UTF-8's byte order), or None when there is none."""
    chars = list(prefix)
    while chars:
        nxt = ord(chars.pop()) + 1
        if 0xD800 <= nxt <= 0xDFFF:  # surrogates are not characters
            nxt = 0xE000
        if nxt <= 0x10FFFF:
            return "".join(chars) + chr(nxt)
    return None


def _agent_columns() -> list[sa.ColumnElement[str]]:
    """The ``agent`` columns whose rows mean the store has seen an agent."""
    return [
        t.spec_versions.c.agent,
        t.spec_changes.c.agent,
        t.runs.c.agent,
        t.rollout_states.c.agent,
        t.kill_switches.c.agent,
    ]


class _Rows(NamedTuple):
    """A batch of events as rows, built before the transaction."""

    runs: dict[str, dict[str, Any]]
    tools: dict[tuple[str, int], dict[str, Any]]
    models: dict[tuple[str, int], dict[str, Any]]
    handoffs: list[dict[str, Any]]
    keys: list[dict[str, Any]]
    beats: list[RunHeartbeat]


def _roll_up(conn: Connection, seal: RunSeal) -> None:
    """Add the runs ``seal`` finished to the rollups, and move ended runs' buckets by the
    tool calls recorded after they ended (in the seal's transaction)."""
    rollups.add_ended_runs(conn, seal.finishing, seal.lines)
    if not seal.reopened:
        return
    stored = conn.execute(sa.select(t.runs).where(t.runs.c.id.in_(list(seal.reopened))))
    for row in stored.mappings():
        run: dict[str, Any] = dict(row)
        before = seal.previous.get(run["id"], [])
        rollups.adjust_tool_calls(conn, run, before, seal.lines.get(run["id"], []))


def _rows(events: Sequence[Event]) -> _Rows:
    rows = _Rows({}, {}, {}, [], [], [])
    for ev in events:
        if isinstance(ev, RunRecorded):
            prev = rows.runs.get(ev.run.id)
            # Within a batch the last record wins, but never terminal -> running.
            if prev is None or prev["status"] == RunStatus.RUNNING.value:
                rows.runs[ev.run.id] = ev.run.model_dump(mode="json") | _times(ev.run)
        elif isinstance(ev, ToolCallRecorded):
            rows.tools[(ev.call.run_id, ev.call.seq)] = _tool_row(ev.call)
        elif isinstance(ev, ModelCallRecorded):
            rows.models[(ev.call.run_id, ev.call.seq)] = ev.call.model_dump(mode="json") | {
                "at": ev.call.at
            }
        elif isinstance(ev, HandoffCreated):
            rows.handoffs.append(
                ev.handoff.model_dump(mode="json") | {"created_at": ev.handoff.created_at}
            )
        elif isinstance(ev, IdempotencyRecorded):
            rows.keys.append(
                ev.record.model_dump(mode="json") | {"created_at": ev.record.created_at}
            )
        else:
            rows.beats.append(ev)
    return rows


def _times(run: RunRecord) -> dict[str, Any]:
    return {
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "heartbeat_at": run.heartbeat_at,
    }


def _tool_row(call: ToolCallRecord) -> dict[str, Any]:
    row = call.model_dump(mode="json")
    row["started_at"] = call.started_at
    row["ended_at"] = call.ended_at
    return row


def _tool_record(row: dict[str, Any]) -> ToolCallRecord:
    decision = row.get("decision")
    if decision is not None:
        row["decision"] = Decision.model_validate(decision)
    return ToolCallRecord.model_validate(row)
