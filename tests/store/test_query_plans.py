"""The plans of the metrics and list queries on PostgreSQL without planner statistics.

PostgreSQL plans from statistics that ``ANALYZE`` (or autovacuum) gathers. A store that
never had them (autovacuum off, or not run yet on freshly filled tables) plans with
default selectivities, and a query whose good plan depends on them can turn into a nested
loop that reads ``runs`` or ``tool_calls`` once per row of another table (issue 13: a
kill-criteria check took 22 s at 100k tool calls that way).

The test builds a database of its own on the server under test (``CREATE DATABASE``), the
schema from ``store.tables`` (Alembic's migration would ``ANALYZE`` the empty tables),
``autovacuum_enabled = false`` on every table, fills it through ``SqlStore.apply`` (20,000
runs, 60,000 tool calls, 2,000 handoffs), never runs ``ANALYZE``, and checks that no table
has statistics. Then it runs each metrics and list query through the store, captures every
``SELECT`` it sends (a ``before_cursor_execute`` listener), and ``EXPLAIN (FORMAT JSON)``s
it with the same parameters.

The rule asserted on each plan (``plan_problems``), for ``runs`` and ``tool_calls`` (and
``handoffs``, 2,000 rows, for the queue's lists and counts):

1. no ``Seq Scan`` (parallel or not) of either table anywhere in the plan, and
2. no ``Nested Loop`` whose inner side contains a ``Seq Scan`` of either table (implied
   by 1, reported on its own because it is the quadratic shape).

The rule is checked to catch a scan: a count of the calls of one tool (no index on
``tool``) is planned as a ``Seq Scan`` and reported, and a synthetic nested loop over a
sequential scan is reported as both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import ON_POSTGRES
from warden.core.decisions import Decision, Verdict
from warden.core.events import Event, HandoffCreated, RunRecorded, ToolCallRecorded
from warden.core.runs import (
    Handoff,
    RunFilter,
    RunMode,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.store import SqlStore
from warden.store.base import HEAD_REVISION
from warden.store.tables import metadata

BIG = frozenset({"runs", "tool_calls", "handoffs", "audit_log"})
"""Tables a plan must never read sequentially (dropping the index a list uses fails the
test: checked by hand for ``ix_tool_calls_agent_started``, ``ix_handoffs_status_created``,
``ix_runs_started`` with ``ix_runs_status_started``, and the agent indexes of ``runs``)."""

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
RUNS = 20_000
CALLS_PER_RUN = 3
AGENTS = [f"agent-{i}" for i in range(10)]


TABLES = {"check_audit(newest=1000)": frozenset({"audit_log"})}
"""Per query, the tables checked when not all of ``BIG``: the audit page's check reads its
1,000 entries as one range of ``audit_log`` (asserted), then joins those runs and their
tool calls to ``unnest`` of their ids. At this test's size (1,000 of 20,000 runs) a hash
join over a scan is the cheaper plan and PostgreSQL takes it; at 1M tool calls the same
join probes the indexes (``unnest`` is estimated at 100 rows whatever the statistics;
``= ANY`` of the ids was priced as the whole table and scanned: 0.6 s, bench/README.md)."""


def plan_problems(plan: dict[str, Any], big: frozenset[str] = BIG) -> list[str]:
    """What breaks the rule in one ``EXPLAIN (FORMAT JSON)`` plan (see module doc)."""
    found: list[str] = []

    def seq_scans(node: dict[str, Any]) -> list[str]:
        own = (
            [node.get("Relation Name", "")]
            if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in big
            else []
        )
        return own + [r for child in node.get("Plans", []) for r in seq_scans(child)]

    def walk(node: dict[str, Any]) -> None:
        kind = node.get("Node Type")
        if kind == "Seq Scan" and node.get("Relation Name") in big:
            found.append(f"Seq Scan on {node['Relation Name']}")
        if kind == "Nested Loop":
            for child in node.get("Plans", []):
                if child.get("Parent Relationship") == "Inner":
                    for rel in seq_scans(child):
                        found.append(f"Nested Loop with a Seq Scan on {rel} inside")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return found


def test_the_rule_reports_a_nested_loop_over_a_sequential_scan() -> None:
    plan = {
        "Node Type": "Nested Loop",
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Relation Name": "run_rollups",
                "Parent Relationship": "Outer",
            },
            {
                "Node Type": "Materialize",
                "Parent Relationship": "Inner",
                "Plans": [{"Node Type": "Seq Scan", "Relation Name": "runs"}],
            },
        ],
    }
    assert plan_problems(plan) == [
        "Nested Loop with a Seq Scan on runs inside",
        "Seq Scan on runs",
    ]
    assert plan_problems({"Node Type": "Seq Scan", "Relation Name": "pages"}) == []


def _events() -> Iterator[list[Event]]:
    """The fill, in batches of 500 runs: ended runs over the last week with their calls."""
    denied = Decision(verdict=Verdict.DENY, rule="access", reason="not allowed")
    allowed = Decision(verdict=Verdict.ALLOW, rule="access", reason="allowed")
    batch: list[Event] = []
    for i in range(RUNS):
        agent = AGENTS[i % len(AGENTS)]
        started = NOW - timedelta(days=7) + timedelta(seconds=i * 30)
        ended = started + timedelta(seconds=20)
        status = (RunStatus.RESOLVED, RunStatus.ESCALATED, RunStatus.FAILED, RunStatus.RESOLVED)[
            i % 4
        ]
        run = RunRecord(
            id=f"run-{i:06d}",
            agent=agent,
            spec_hash=f"hash-{i % 3}",
            mode=RunMode.SHADOW if i % 5 == 0 else RunMode.LIVE,
            status=status,
            routing_key=f"key-{i % 700}",
            started_at=started,
            ended_at=ended,
            heartbeat_at=ended,
            steps=CALLS_PER_RUN,
            tool_calls=CALLS_PER_RUN,
            cost_usd=0.01,
            latency_s=20.0,
        )
        batch.append(RunRecorded(run=run))
        for seq in range(1, CALLS_PER_RUN + 1):
            deny = (i + seq) % 7 == 0
            batch.append(
                ToolCallRecorded(
                    call=ToolCallRecord(
                        run_id=run.id,
                        seq=seq,
                        tool=("read_email", "search_docs", "send_email")[seq - 1],
                        status=ToolCallStatus.DENIED if deny else ToolCallStatus.SUCCEEDED,
                        decision=denied if deny else allowed,
                        started_at=started + timedelta(seconds=seq),
                        ended_at=started + timedelta(seconds=seq + 1),
                    )
                )
            )
        if i % 10 == 1:
            handoff = Handoff(
                id=f"ho-{i:06d}",
                run_id=run.id,
                agent=agent,
                queue=("tier1", "tier2")[i % 2],
                trigger="low_confidence",
                reason="unsure",
                created_at=ended,
            )
            batch.append(HandoffCreated(handoff=handoff))
        if len(batch) >= 2000:
            yield batch
            batch = []
    if batch:
        yield batch


@pytest.fixture(scope="module")
def unanalyzed() -> Iterator[SqlStore]:
    """A filled store on a database of its own that never had planner statistics."""
    from tests.conftest import PG_URL

    server = sa.make_url(PG_URL)
    name = f"warden_plans_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.create_all(conn)  # not the migrations: they ANALYZE the empty tables
        for table in metadata.sorted_tables:
            conn.exec_driver_sql(
                f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false, '
                "toast.autovacuum_enabled = false)"
            )
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{HEAD_REVISION}')")
    engine.dispose()
    store = SqlStore(url.render_as_string(hide_password=False))
    try:
        for batch in _events():
            store.apply(batch)
        yield store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def _selects(store: SqlStore, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """The ``SELECT`` statements ``call`` sends through ``store``, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    return sent


def _plan(store: SqlStore, statement: str, parameters: Any) -> dict[str, Any]:
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    return found[0]["Plan"]


@pytest.mark.skipif(not ON_POSTGRES, reason="planner statistics are PostgreSQL's")
def test_metrics_and_list_queries_never_scan_runs_or_tool_calls_without_statistics(
    unanalyzed: SqlStore,
) -> None:
    store = unanalyzed
    with store.engine.connect() as conn:
        analyzed = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
            "OR last_autoanalyze IS NOT NULL"
        ).scalar()
        stats = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'public'"
        ).scalar()
        calls = conn.exec_driver_sql("SELECT count(*) FROM tool_calls").scalar()
    assert (analyzed, stats, calls) == (0, 0, RUNS * CALLS_PER_RUN)

    agent = AGENTS[3]
    newest = store.list_runs(RunFilter(agent=agent, limit=101))
    newest_calls = store.list_tool_calls(agent=agent, limit=101)
    assert len(newest) == 101 and {r.agent for r in newest} == {agent}
    assert len(newest_calls) == 101
    last_call = newest_calls[-1]
    open_handoffs = store.list_handoffs(status="open", limit=101)
    assert len(open_handoffs) == 101
    queries: dict[str, Callable[[], object]] = {
        "run_totals (an hour)": lambda: store.run_totals(
            agent, since=NOW - timedelta(hours=1, seconds=-30), until=NOW
        ),
        "run_totals (a week, live, one version)": lambda: store.run_totals(
            agent, since=NOW - timedelta(days=7, seconds=-17), mode=RunMode.LIVE, spec_hash="hash-1"
        ),
        "run_totals_series (14 days)": lambda: store.run_totals_series(
            agent, since=NOW - timedelta(days=13), step=timedelta(days=1), count=14
        ),
        "untrusted_reads": lambda: store.untrusted_reads(
            agent, "key-3", ["read_email", "search_docs"], NOW - timedelta(days=30)
        ),
        "daily_usage": lambda: store.daily_usage(agent, NOW - timedelta(hours=12)),
        "list_runs(agent)": lambda: store.list_runs(RunFilter(agent=agent, limit=101)),
        "list_runs(agent, status)": lambda: store.list_runs(
            RunFilter(agent=agent, status=RunStatus.FAILED, limit=101)
        ),
        "list_runs(agent, mode)": lambda: store.list_runs(
            RunFilter(agent=agent, mode=RunMode.SHADOW, limit=101)
        ),
        "list_runs(status)": lambda: store.list_runs(
            RunFilter(status=RunStatus.ESCALATED, limit=101)
        ),
        "list_runs()": lambda: store.list_runs(RunFilter(limit=101)),
        "list_runs(agent, after)": lambda: store.list_runs(
            RunFilter(agent=agent, after=(newest[-1].started_at, newest[-1].id), limit=101)
        ),
        "list_tool_calls(agent)": lambda: store.list_tool_calls(agent=agent, limit=101),
        "list_tool_calls(agent, after)": lambda: store.list_tool_calls(
            agent=agent, after=(last_call.started_at, last_call.run_id, last_call.seq), limit=101
        ),
        "list_tool_calls(status)": lambda: store.list_tool_calls(
            status=ToolCallStatus.DENIED, limit=101
        ),
        "list_tool_calls()": lambda: store.list_tool_calls(limit=101),
        "list_handoffs(open)": lambda: store.list_handoffs(status="open", limit=101),
        "list_handoffs(open, after)": lambda: store.list_handoffs(
            status="open",
            after=(open_handoffs[-1].created_at, open_handoffs[-1].id),
            limit=101,
        ),
        "list_handoffs(queue, open)": lambda: store.list_handoffs(
            "tier2", status="open", limit=101
        ),
        "list_handoffs(open, agent)": lambda: store.list_handoffs(
            status="open", agent=agent, limit=101
        ),
        "count_handoffs(open)": lambda: store.count_handoffs(status="open"),
        "check_audit(newest=1000)": lambda: store.check_audit(newest=1000),
        "list_audit(before_seq) (the audit page)": lambda: store.list_audit(
            before_seq=RUNS, limit=51, newest=True
        ),
        "list_audit(agent, before_seq)": lambda: store.list_audit(
            agent=agent, before_seq=RUNS, limit=51, newest=True
        ),
    }
    problems: dict[str, list[str]] = {}
    for name, call in queries.items():
        statements = _selects(store, call)
        assert statements, f"{name} sent no SELECT"
        for statement, parameters in statements:
            found = plan_problems(_plan(store, statement, parameters), TABLES.get(name, BIG))
            if found:
                problems.setdefault(name, []).extend(found)
    assert problems == {}

    # The rule catches a scan: there is no index on tool_calls.tool.
    scanning = "SELECT count(*) FROM tool_calls WHERE tool = %(tool)s"
    assert "Seq Scan on tool_calls" in plan_problems(_plan(store, scanning, {"tool": "send_email"}))
