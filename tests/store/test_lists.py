"""Every list that can grow, on the database under test: filtered in SQL, bounded by
``limit``, paged by a keyset cursor that visits each row once in the list's order, and
counted by the database (``count_*``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tests.conftest import make_incident
from warden.core.audit import AuditDraft
from warden.core.events import HandoffCreated, RunRecorded, ToolCallRecorded
from warden.core.incidents import IncidentStatus, PageDelivery
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    Handoff,
    RunRecord,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.store import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def _walk(
    fetch: Callable[[Any, int], list[T]], cursor_of: Callable[[T], Any], size: int
) -> list[T]:
    """Every row, a page of ``size`` at a time from the first page on."""
    seen: list[T] = []
    after: Any = None
    while True:
        page = fetch(after, size)
        assert len(page) <= size
        seen += page
        if len(page) < size:
            return seen
        after = cursor_of(page[-1])


def _ids(rows: Sequence[Any], key: str = "id") -> list[Any]:
    return [getattr(r, key) for r in rows]


def test_tool_calls_of_an_agent_page_newest_first_through_ties(store: SqlStore) -> None:
    events: list[Any] = []
    for i in range(7):
        agent = "a" if i % 3 else "b"
        run = RunRecord(id=f"r{i}", agent=agent, spec_hash="h", started_at=T0)
        events.append(RunRecorded(run=run))
        for seq in (1, 2):  # calls of runs 0-3 share a start time: the key breaks the tie
            at = T0 + timedelta(seconds=(i // 4) * 10 + seq)
            call = ToolCallRecord(
                run_id=run.id, seq=seq, tool="t", status=ToolCallStatus.SUCCEEDED, started_at=at
            )
            events.append(ToolCallRecorded(call=call))
    store.apply(events)
    everything = store.list_tool_calls(agent="a", limit=1000)
    assert {c.run_id for c in everything} == {"r1", "r2", "r4", "r5"}
    keys = [(c.started_at, c.run_id, c.seq) for c in everything]
    assert keys == sorted(keys, key=lambda k: (-k[0].timestamp(), k[1], k[2]))
    for size in (1, 2, 3):
        paged = _walk(
            lambda after, n: store.list_tool_calls(agent="a", after=after, limit=n),
            lambda c: (c.started_at, c.run_id, c.seq),
            size,
        )
        assert [(c.run_id, c.seq) for c in paged] == [(c.run_id, c.seq) for c in everything]


def test_a_tool_call_belongs_to_its_stored_runs_agent(store: SqlStore) -> None:
    def call(run_id: str, seq: int) -> ToolCallRecorded:
        record = ToolCallRecord(
            run_id=run_id, seq=seq, tool="t", status=ToolCallStatus.SUCCEEDED, started_at=T0
        )
        return ToolCallRecorded(call=record)

    store.apply([RunRecorded(run=RunRecord(id="r1", agent="a", spec_hash="h", started_at=T0))])
    store.apply([call("r1", 1)])  # its run was stored by an earlier batch
    store.apply([call("r2", 1)])  # before its run: no agent yet, in no agent's list
    assert _ids(store.list_tool_calls(agent="a"), "run_id") == ["r1"]
    assert len(store.list_tool_calls()) == 2
    store.apply([RunRecorded(run=RunRecord(id="r2", agent="a", spec_hash="h", started_at=T0))])
    assert sorted(_ids(store.list_tool_calls(agent="a"), "run_id")) == ["r1", "r2"]
    assert store.list_tool_calls(agent="b") == []


def test_handoffs_by_status_queue_and_agent_paged_and_counted(store: SqlStore) -> None:
    events: list[Any] = []
    for i in range(9):
        events.append(
            HandoffCreated(
                handoff=Handoff(
                    id=f"h{i}",
                    run_id=f"r{i}",
                    agent="a" if i % 2 else "b",
                    queue="q1" if i < 5 else "q2",
                    trigger="manual",
                    reason="why",
                    created_at=T0 + timedelta(minutes=i // 2),
                    status="closed" if i == 8 else "open",
                )
            )
        )
    store.apply(events)
    assert _ids(store.list_handoffs(status="open", limit=3)) == ["h6", "h7", "h4"]
    assert _ids(store.list_handoffs("q1", status="open")) == ["h4", "h2", "h3", "h0", "h1"]
    assert _ids(store.list_handoffs(status="open", agent="a")) == ["h7", "h5", "h3", "h1"]
    assert _ids(store.list_handoffs()) == ["h8", "h6", "h7", "h4", "h5", "h2", "h3", "h0", "h1"]
    paged = _walk(
        lambda after, n: store.list_handoffs(after=after, limit=n),
        lambda h: (h.created_at, h.id),
        2,
    )
    assert _ids(paged) == _ids(store.list_handoffs())
    assert store.count_handoffs(status="open") == 8
    assert store.count_handoffs("q2", status="open") == 3
    assert store.count_handoffs(status="open", agents=["a"]) == 4
    assert store.count_handoffs(agents=[]) == 0


def test_approvals_by_status_and_agent_oldest_first_paged_and_counted(store: SqlStore) -> None:
    for i in range(6):
        store.create_approval(
            ApprovalRequest(
                id=f"apr_{i}",
                run_id=f"r{i}",
                agent="a" if i % 2 else "b",
                seq=1,
                tool="t",
                args_hash="h",
                rule="access",
                reason="why",
                created_at=T0 + timedelta(minutes=i // 2),
                expires_at=T0 + timedelta(hours=1),
            )
        )
    store.decide_approval("apr_0", status=ApprovalStatus.APPROVED, actor="p", reason="ok", at=T0)
    pending = ApprovalStatus.PENDING
    assert _ids(store.list_approvals(pending)) == ["apr_1", "apr_2", "apr_3", "apr_4", "apr_5"]
    assert _ids(store.list_approvals(pending, agent="a", limit=2)) == ["apr_1", "apr_3"]
    paged = _walk(
        lambda after, n: store.list_approvals(after=after, limit=n),
        lambda a: (a.created_at, a.id),
        4,
    )
    assert _ids(paged) == [f"apr_{i}" for i in range(6)]
    assert store.count_approvals(pending) == 5
    assert store.count_approvals(pending, agents=["b"]) == 2
    assert store.count_approvals() == 6


def test_incidents_newest_first_paged_and_counted(store: SqlStore) -> None:
    for i in range(5):
        store.open_incident(
            make_incident(
                id=f"inc_{i}",
                agent="a" if i % 2 else "b",
                dedup_key=f"k{i}",
                opened_at=T0 + timedelta(minutes=i // 2),
            )
        )
    store.update_incident("inc_4", actor="p", at=T0, status=IncidentStatus.RESOLVED)
    assert _ids(store.list_incidents(limit=2)) == ["inc_4", "inc_2"]
    paged = _walk(
        lambda after, n: store.list_incidents(after=after, limit=n),
        lambda i: (i.opened_at, i.id),
        2,
    )
    assert _ids(paged) == ["inc_4", "inc_2", "inc_3", "inc_0", "inc_1"]
    opened = IncidentStatus.OPEN
    assert _ids(store.list_incidents("a", status=opened)) == ["inc_3", "inc_1"]
    assert store.count_incidents(status=opened) == 4
    assert store.count_incidents(status=opened, agents=["b"]) == 2


def test_page_deliveries_oldest_first_paged(store: SqlStore) -> None:
    for i in range(5):
        store.record_page(
            PageDelivery(
                id=f"p{i}",
                agent="a",
                incident_id="inc_1",
                channel="webhook",
                target="https://pager.example/hook",
                delivered=True,
                at=T0 + timedelta(minutes=i // 2),
            )
        )
    assert _ids(store.list_pages("a", limit=3)) == ["p0", "p1", "p2"]
    paged = _walk(
        lambda after, n: store.list_pages(incident_id="inc_1", after=after, limit=n),
        lambda p: (p.at, p.id),
        2,
    )
    assert _ids(paged) == [f"p{i}" for i in range(5)]


def test_audit_entries_of_some_actions_newest_limit(store: SqlStore) -> None:
    for i, action in enumerate(["kill_switch.engaged", "spec.applied", "kill_switch.released"] * 3):
        store.append_audit(
            AuditDraft(
                at=T0 + timedelta(minutes=i),
                actor="p",
                action=action,
                agent="a" if i < 6 else "b",
                reason="r",
                before=None,
                after=None,
            )
        )
    switched = store.list_audit(
        agent="a", actions=["kill_switch.engaged", "kill_switch.released"], limit=3, newest=True
    )
    assert [e.action for e in switched] == [
        "kill_switch.released",
        "kill_switch.engaged",
        "kill_switch.released",
    ]
    assert [e.seq for e in switched] == sorted(e.seq for e in switched)
    assert len(store.list_audit(agent="a", actions=["kill_switch.engaged"])) == 2
    assert store.list_audit(actions=["run.decisions"]) == []
