"""The audit log on the database under test: concurrent appends and state changes never
fork the chain, and SQL edits are caught."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.tampering import rehash_chain
from warden.core.audit import AuditDraft, AuditKey
from warden.core.clock import FakeClock
from warden.core.decisions import Decision, Verdict
from warden.core.events import Event, RunRecorded, ToolCallRecorded
from warden.core.runs import RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.store import SqlStore, open_store
from warden.store.tables import audit_head, audit_log, runs, tool_calls

KEY = AuditKey(b"s" * 32)


def _fill(store: SqlStore, clock: FakeClock, n: int) -> None:
    for i in range(n):
        store.append_audit(
            AuditDraft(
                at=clock.now(), actor="dana", action="drill.kill_switch", agent="a", reason=str(i)
            )
        )


def test_an_edited_column_makes_verify_fail_naming_the_row(
    store: SqlStore, clock: FakeClock
) -> None:
    _fill(store, clock, 6)
    assert store.verify_audit().intact
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 4).values(actor="mallory"))
    check = store.verify_audit()
    assert not check.intact
    assert check.first_bad_seq == 4
    assert "entry 4 was altered" in check.problem


def test_a_deleted_row_makes_verify_fail_naming_it(store: SqlStore, clock: FakeClock) -> None:
    _fill(store, clock, 6)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    check = store.verify_audit()
    assert (check.intact, check.first_bad_seq) == (False, 3)
    assert "entry 3 was removed" in check.problem


def test_deleting_the_newest_row_is_caught_by_the_head(store: SqlStore, clock: FakeClock) -> None:
    _fill(store, clock, 3)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    check = store.verify_audit()
    assert (check.intact, check.first_bad_seq) == (False, 3)


def test_a_check_of_the_newest_entries_reads_only_them(store: SqlStore, clock: FakeClock) -> None:
    _fill(store, clock, 10)
    quick = store.check_audit(newest=4)
    assert (quick.intact, quick.entries, quick.from_seq) == (True, 4, 7)
    with store.engine.begin() as conn:  # an old entry: only the whole check sees it
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory"))
    assert store.check_audit(newest=4).intact
    assert not store.verify_audit().intact
    with store.engine.begin() as conn:  # a new one: both do
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 9).values(actor="mallory"))
    check = store.check_audit(newest=4)
    assert (check.intact, check.first_bad_seq) == (False, 9)
    assert store.check_audit(newest=100).from_seq == 1  # more than the log: all of it


def test_concurrent_appends_from_threads_never_fork_the_chain(
    database_url: str, clock: FakeClock
) -> None:
    stores = [SqlStore(database_url) for _ in range(4)]
    per_thread = 15
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores) * 2)

    def append(store: SqlStore, who: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                store.append_audit(
                    AuditDraft(at=clock.now(), actor=who, action="test.append", reason=str(i))
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    def flip(store: SqlStore, who: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                store.set_kill_switch(
                    f"agent-{who}", engaged=i % 2 == 0, reason=str(i), actor=who, at=clock.now()
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=fn, args=(s, f"{fn.__name__}-{i}"))
        for i, s in enumerate(stores)
        for fn in (append, flip)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert errors == []
        entries = stores[0].list_audit()
        expected = len(stores) * per_thread * 2
        assert [e.seq for e in entries] == list(range(1, expected + 1))
        assert len({e.prev_hash for e in entries}) == expected  # no two entries share a parent
        assert stores[0].verify_audit().intact
    finally:
        for s in stores:
            s.close()


# -- finding 1: the whole chain re-hashed by a database writer -------------------------------


@pytest.fixture
def keyed(database_url: str):
    s = SqlStore(database_url, audit_key=KEY)
    yield s
    s.close()


def test_a_rehashed_chain_fails_verify_with_the_key_naming_the_first_rewritten_entry(
    keyed: SqlStore, database_url: str, clock: FakeClock
) -> None:
    _fill(keyed, clock, 5)
    assert keyed.verify_audit().intact
    rehash_chain(keyed.engine, 2, actor="mallory")
    check = keyed.verify_audit()
    assert (check.intact, check.first_bad_seq) == (False, 2)
    assert "MAC" in check.problem
    plain = open_store(database_url)  # a store without the key checks the hashes only
    try:
        unkeyed = plain.verify_audit()
    finally:
        plain.close()
    assert unkeyed.intact and unkeyed.key_id is None
    assert any("authenticity was not checked" in w for w in unkeyed.warnings)


def test_entries_from_before_the_key_are_unauthenticated_and_later_ones_must_keep_their_mac(
    store: SqlStore, database_url: str, clock: FakeClock
) -> None:
    _fill(store, clock, 2)  # no key yet
    keyed = open_store(database_url, audit_key=KEY)
    try:
        _fill(keyed, clock, 3)
        check = keyed.verify_audit()
        assert (check.intact, check.key_id, check.unauthenticated) == (True, KEY.key_id, 2)
        with keyed.engine.begin() as conn:
            conn.execute(sa.update(audit_log).where(audit_log.c.seq == 4).values(mac=None))
        check = keyed.verify_audit()
        assert (check.intact, check.first_bad_seq) == (False, 4)
    finally:
        keyed.close()


def test_cutting_the_newest_entries_and_moving_the_head_needs_the_key(
    keyed: SqlStore, clock: FakeClock
) -> None:
    _fill(keyed, clock, 4)
    with keyed.engine.begin() as conn:
        third = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 3)).mappings().one()
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 4))
        conn.execute(sa.update(audit_head).values(seq=3, hash=third["hash"], mac=third["mac"]))
    check = keyed.verify_audit()
    assert (check.intact, check.first_bad_seq) == (False, 3)
    assert "head" in check.problem


def test_an_anchor_catches_a_cut_below_it(
    keyed: SqlStore, database_url: str, clock: FakeClock
) -> None:
    _fill(keyed, clock, 4)
    anchor = keyed.audit_anchor(at=clock.now())
    assert (anchor.seq, anchor.mac) == (4, keyed.list_audit()[-1].mac)
    assert keyed.check_audit(anchor=anchor).intact
    with keyed.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq > 2))
        second = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2)).mappings().one()
        conn.execute(sa.update(audit_head).values(seq=2, hash=second["hash"], mac=None))
    for verifier in (keyed, plain := open_store(database_url)):  # with the key or without
        check = verifier.check_audit(anchor=anchor)
        assert (check.intact, check.first_bad_seq) == (False, 3)
        assert "anchor" in check.problem
    plain.close()


# -- finding 2: the decisions of finished runs are sealed in the chain -----------------------

DENY = Decision(verdict=Verdict.DENY, rule="access", reason="refund is blocked for this agent.")
ALLOW = Decision(verdict=Verdict.ALLOW, rule="access", reason="The tool may run.")


def _run(run_id: str, clock: FakeClock, status: RunStatus = RunStatus.RUNNING) -> RunRecord:
    ended = clock.now() + timedelta(seconds=2) if status.is_terminal else None
    return RunRecord(
        id=run_id, agent="a", spec_hash="h", status=status, started_at=clock.now(), ended_at=ended
    )


def _call(run_id: str, seq: int, clock: FakeClock, *, denied: bool = False) -> ToolCallRecord:
    return ToolCallRecord(
        run_id=run_id,
        seq=seq,
        tool="issue_refund" if denied else "lookup",
        arguments={"n": seq},
        args_hash=f"args-{seq}",
        status=ToolCallStatus.DENIED if denied else ToolCallStatus.SUCCEEDED,
        decision=DENY if denied else ALLOW,
        started_at=clock.now(),
        ended_at=clock.now() + timedelta(seconds=1),
    )


def _finished_run(run_id: str, clock: FakeClock) -> list[Event]:
    return [
        RunRecorded(run=_run(run_id, clock)),
        ToolCallRecorded(call=_call(run_id, 1, clock)),
        ToolCallRecorded(call=_call(run_id, 2, clock, denied=True)),
        RunRecorded(run=_run(run_id, clock, RunStatus.BLOCKED)),
    ]


def _sealed(store: SqlStore) -> list[tuple[str | None, str]]:
    return [
        (e.subject, e.after) for e in store.audit_entries(runs=True) if e.action == "run.decisions"
    ]


def test_a_denied_call_edited_to_allowed_fails_verify_naming_the_run(
    store: SqlStore, clock: FakeClock
) -> None:
    store.apply(_finished_run("r1", clock) + _finished_run("r2", clock))
    assert [s for s, _ in _sealed(store)] == ["r1", "r2"]
    check = store.verify_audit()
    assert (check.intact, check.runs_checked) == (True, 2)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(tool_calls)
            .where(tool_calls.c.run_id == "r2", tool_calls.c.seq == 2)
            .values(status="succeeded", decision=ALLOW.model_dump(mode="json"))
        )
    check = store.verify_audit()
    assert (check.intact, check.first_bad_run) == (False, "r2")
    assert "r2" in check.problem


@pytest.mark.parametrize(
    "tamper",
    [
        sa.delete(tool_calls).where(tool_calls.c.run_id == "r1", tool_calls.c.seq == 2),
        sa.update(tool_calls).where(tool_calls.c.run_id == "r1").values(tool="other"),
        sa.update(tool_calls).where(tool_calls.c.run_id == "r1").values(args_hash="x"),
        sa.update(runs).where(runs.c.id == "r1").values(status="resolved"),
        sa.delete(runs).where(runs.c.id == "r1"),
    ],
    ids=["call-removed", "tool", "arguments", "run-status", "run-removed"],
)
def test_any_edit_of_a_finished_run_s_decisions_is_caught(
    store: SqlStore, clock: FakeClock, tamper: sa.Executable
) -> None:
    store.apply(_finished_run("r1", clock))
    with store.engine.begin() as conn:
        conn.execute(tamper)
    check = store.verify_audit()
    assert (check.intact, check.first_bad_run) == (False, "r1")


def test_sealing_happens_once_per_finished_run_and_survives_replays(
    store: SqlStore, clock: FakeClock
) -> None:
    batch = _finished_run("r1", clock)
    store.apply(batch[:2])  # still running: nothing sealed
    assert _sealed(store) == []
    store.apply(batch[2:])
    store.apply(batch)  # a replay of the whole batch from the spool
    assert len(_sealed(store)) == 1
    assert store.verify_audit().intact


def test_a_tool_call_recorded_after_the_run_ended_is_sealed_again(
    store: SqlStore, clock: FakeClock
) -> None:
    store.apply(_finished_run("r1", clock))
    store.apply([ToolCallRecorded(call=_call("r1", 5, clock))])  # e.g. a late OTLP span
    sealed = _sealed(store)
    assert [s for s, _ in sealed] == ["r1", "r1"] and sealed[0][1] != sealed[1][1]
    check = store.verify_audit()
    assert (check.intact, check.runs_checked) == (True, 1)


def test_run_decision_entries_are_left_out_of_the_log_unless_asked(
    store: SqlStore, clock: FakeClock
) -> None:
    store.append_audit(
        AuditDraft(at=clock.now(), actor="dana", action="drill.kill_switch", agent="a")
    )
    store.apply(_finished_run("r1", clock))
    store.append_audit(
        AuditDraft(at=clock.now(), actor="dana", action="drill.kill_switch", agent="a")
    )
    assert [e.seq for e in store.list_audit()] == [1, 3]
    assert [e.seq for e in store.list_audit(agent="a")] == [1, 3]
    assert [e.seq for e in store.audit_entries(runs=True)] == [1, 2, 3]
    assert [e.seq for e in store.audit_entries(limit=1, newest=True)] == [3]


def test_keyed_sealing_of_run_decisions(keyed: SqlStore, clock: FakeClock) -> None:
    keyed.apply(_finished_run("r1", clock))
    [entry] = keyed.audit_entries(runs=True)
    assert entry.mac is not None and entry.mac.startswith(KEY.key_id)
    assert keyed.verify_audit().intact
