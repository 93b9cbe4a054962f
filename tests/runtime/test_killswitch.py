"""The kill switch reaches a governed worker within a second even when SQLite's write lock
is busy: the kill takes effect through its signal, and its record follows."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ON_POSTGRES
from warden.core.clock import SystemClock
from warden.core.killswitch import KillSwitchState
from warden.errors import KillSwitchEngaged
from warden.store import SqlStore

pytestmark = pytest.mark.slow

HOLD_LOCK = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print(time.time(), flush=True)
"""


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's single write lock")
def test_a_kill_reaches_a_worker_within_a_second_while_another_process_holds_the_lock(
    make_governor, spec_factory, store: SqlStore, database_url: str
) -> None:
    worker_store = SqlStore(database_url, auto_migrate=False)  # the worker's own store
    gov = make_governor(
        spec_factory({"noop": {"access": "read"}}, policy={"max_repeated_calls": 10_000}),
        store=worker_store,
        clock=SystemClock(),
    )

    @gov.tool
    def noop(x: int) -> int:
        return x

    with gov.run(input=0) as run:  # live, default kill-switch TTL (0.25 s)
        run.call("noop", x=0)
        run.resolve()
    assert store.sqlite_file is not None
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store.sqlite_file), "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    kill_result: list[KillSwitchState | BaseException] = []
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"

        def kill() -> None:
            try:
                kill_result.append(
                    store.set_kill_switch(
                        "test-agent",
                        engaged=True,
                        reason="bad refunds",
                        actor="oncall",
                        at=SystemClock().now(),
                    )
                )
            except BaseException as exc:
                kill_result.append(exc)

        t0 = time.time()
        flipper = threading.Thread(target=kill)
        flipper.start()
        refused_at = None
        i = 0
        while time.time() - t0 < 5:
            i += 1
            try:
                with gov.run(input=i) as run:
                    run.call("noop", x=i)
                    run.resolve()
            except KillSwitchEngaged:
                refused_at = time.time()
                break
            time.sleep(0.005)
        assert refused_at is not None, "the worker never saw the kill"
        assert refused_at - t0 < 1.0
        assert flipper.is_alive()  # the row is still waiting for the lock
        released_at = float(holder.stdout.readline())
        assert refused_at < released_at
        flipper.join(15)
    finally:
        holder.kill()
        holder.wait()
    assert len(kill_result) == 1
    state = kill_result[0]
    assert isinstance(state, KillSwitchState) and state.engaged
    actions = [(e.action, e.actor, e.reason) for e in store.list_audit(agent="test-agent")]
    assert actions == [("kill_switch.engaged", "oncall", "bad refunds")]
    assert store.verify_audit().intact
