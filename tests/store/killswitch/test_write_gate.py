"""The write gate on SQLite: run-record batches let a waiting state change go first, and a
long batch lets it in between its parts instead of holding the write lock to the end."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import ON_POSTGRES
from warden.core.clock import FakeClock
from warden.core.events import RunRecorded, ToolCallRecorded
from warden.core.runs import RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.store import SqlStore
from warden.store import base as store_base
from warden.store.killswitch.write_gate import WriteGate

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the write gate is SQLite only")


def _events(clock: FakeClock, run_id: str, calls: int) -> list[RunRecorded | ToolCallRecorded]:
    now = clock.now()
    run = RunRecord(
        id=run_id,
        agent="a",
        spec_hash="h",
        spec_version="1",
        mode="live",
        status=RunStatus.RUNNING,
        started_at=now,
    )
    out: list[RunRecorded | ToolCallRecorded] = [RunRecorded(run=run)]
    for seq in range(calls):
        out.append(
            ToolCallRecorded(
                call=ToolCallRecord(
                    run_id=run_id,
                    seq=seq,
                    tool="noop",
                    arguments={"x": seq},
                    status=ToolCallStatus.SUCCEEDED,
                    started_at=now,
                    ended_at=now + timedelta(milliseconds=1),
                )
            )
        )
    ended = run.model_copy(update={"status": RunStatus.RESOLVED, "ended_at": now})
    out.append(RunRecorded(run=ended))
    return out


def test_a_closed_gate_holds_bulk_writers_until_it_opens(tmp_path) -> None:
    gate = WriteGate(tmp_path / "control" / "write.gate")
    assert not gate.is_closed()
    passed = threading.Event()
    with gate.closed():
        assert gate.is_closed()
        t = threading.Thread(target=lambda: (gate.pass_through(), passed.set()))
        t.start()
        assert not passed.wait(0.3)
    assert passed.wait(5)
    t.join()
    assert not gate.is_closed()


def test_batches_arriving_while_a_kill_waits_for_the_lock_go_after_it(
    store: SqlStore, database_url: str, clock: FakeClock, monkeypatch
) -> None:
    assert store.sqlite_file is not None
    took_lock: list[str] = []  # appended while holding the lock: the order of acquisition
    begin = store_base._begin_immediate

    def recording(conn: Any, *, gate: WriteGate | None = None) -> None:
        begin(conn, gate=gate)
        took_lock.append("kill" if gate is None else "batch")

    monkeypatch.setattr(store_base, "_begin_immediate", recording)
    holder = sqlite3.connect(store.sqlite_file, isolation_level=None, timeout=0)
    writers = [SqlStore(database_url, auto_migrate=False) for _ in range(3)]
    try:
        holder.execute("BEGIN IMMEDIATE")  # a long transaction of another process
        threads = [
            threading.Thread(
                target=lambda: store.set_kill_switch(
                    "a", engaged=True, reason="r", actor="x", at=clock.now()
                )
            )
        ]
        threads[0].start()
        gate = WriteGate.beside(store.sqlite_file)
        deadline = time.monotonic() + 5
        while not gate.is_closed():  # the kill is waiting for the lock, gate closed
            assert time.monotonic() < deadline
            time.sleep(0.005)
        for i, w in enumerate(writers):
            threads.append(threading.Thread(target=w.apply, args=(_events(clock, f"run_{i}", 3),)))
            threads[-1].start()
        time.sleep(0.2)  # the batches are waiting at the gate
        holder.execute("COMMIT")
        for t in threads:
            t.join(15)
    finally:
        holder.close()
        for w in writers:
            w.close()
    assert took_lock == ["kill", "batch", "batch", "batch"]
    assert store.get_kill_switch("a").engaged
    assert all(store.get_run(f"run_{i}") is not None for i in range(3))


def test_a_long_batch_is_written_whole(store: SqlStore, clock: FakeClock) -> None:
    store.apply(_events(clock, "run_long", 1234))  # 1 236 events: three parts, one commit
    detail = store.get_run("run_long")
    assert detail is not None
    assert detail.run.status is RunStatus.RESOLVED
    assert len(detail.tool_calls) == 1234


def test_a_long_batch_lets_a_kill_in_between_its_parts(
    store: SqlStore, database_url: str, clock: FakeClock, monkeypatch
) -> None:
    assert store.sqlite_file is not None
    gate = WriteGate.beside(store.sqlite_file)
    took_lock: list[str] = []
    begin = store_base._begin_immediate

    def recording(conn: Any, *, gate: WriteGate | None = None) -> None:
        begin(conn, gate=gate)
        took_lock.append("kill" if gate is None else "batch")

    monkeypatch.setattr(store_base, "_begin_immediate", recording)
    flipper = SqlStore(database_url, auto_migrate=False)
    write_rows = SqlStore._write_rows
    killer: list[threading.Thread] = []

    def first_part_then_a_kill(self: SqlStore, conn: Any, rows: Any) -> None:
        write_rows(self, conn, rows)
        if not killer:  # a kill arrives while the batch holds the lock
            killer.append(
                threading.Thread(
                    target=lambda: flipper.set_kill_switch(
                        "a", engaged=True, reason="r", actor="x", at=clock.now()
                    )
                )
            )
            killer[0].start()
            deadline = time.monotonic() + 5
            while not gate.is_closed():
                assert time.monotonic() < deadline
                time.sleep(0.002)

    monkeypatch.setattr(SqlStore, "_write_rows", first_part_then_a_kill)
    try:
        store.apply(_events(clock, "run_long", 1234))
        killer[0].join(15)
    finally:
        flipper.close()
    assert took_lock == ["batch", "kill", "batch"]
    detail = store.get_run("run_long")
    assert detail is not None and len(detail.tool_calls) == 1234
    assert store.get_kill_switch("a").engaged


def test_a_file_system_without_flock_turns_the_gate_off_not_the_store(
    store: SqlStore, clock: FakeClock, monkeypatch
) -> None:
    import fcntl

    def no_locks(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")  # ENOLCK, as on some NFS mounts

    monkeypatch.setattr(fcntl, "flock", no_locks)
    store.apply(_events(clock, "run_nfs", 2))
    store.set_kill_switch("a", engaged=True, reason="r", actor="x", at=clock.now())
    assert store.get_run("run_nfs") is not None
    assert store.get_kill_switch("a").engaged
