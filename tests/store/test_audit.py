"""The audit log on the database under test: concurrent appends and state changes never
fork the chain, and SQL edits are caught."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from warden.core.audit import AuditDraft
from warden.core.clock import FakeClock
from warden.store import SqlStore
from warden.store.tables import audit_log


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
