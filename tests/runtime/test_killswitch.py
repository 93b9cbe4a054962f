"""The kill switch: a cached view of the store's switch (TTL, fresh reads, a grace period
when the store blips, never live without a recent answer), a kill stopping the next call
and new runs, and a kill reaching a worker within a second even when SQLite's write lock
is busy (the kill takes effect through its signal, and its record follows)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tests.conftest import ON_POSTGRES
from tests.runtime.specs import router_tools
from warden import RunStatus, StoreUnavailable, ToolCallStatus
from warden.core.clock import FakeClock, SystemClock
from warden.core.killswitch import KillSwitchState
from warden.core.runs import RunFilter
from warden.errors import KillSwitchEngaged
from warden.runtime.killswitch import KillSwitch
from warden.store import SqlStore
from warden.testing import SwitchableStore

HOLD_LOCK = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print(time.time(), flush=True)
"""


@pytest.mark.slow
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


class _SwitchStore:
    """The kill-switch part of the runtime store, in memory; ``down`` makes reads fail."""

    def __init__(self) -> None:
        self.states: dict[str, KillSwitchState] = {}
        self.reads = 0
        self.down = False
        self.watchers: list[Callable[[str], None]] = []
        self.unwatched = 0

    def flip(self, agent: str, *, engaged: bool, reason: str = "incident 42") -> None:
        self.states[agent] = KillSwitchState(agent=agent, engaged=engaged, reason=reason)

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        self.reads += 1
        if self.down:
            raise StoreUnavailable("store unreachable: connection refused")
        return self.states.get(agent, KillSwitchState(agent=agent))

    def watch_kill_switches(self, callback: Callable[[str], None]) -> Callable[[], None]:
        self.watchers.append(callback)

        def stop() -> None:
            self.unwatched += 1

        return stop


@pytest.fixture
def switch_store() -> _SwitchStore:
    return _SwitchStore()


def test_a_read_is_cached_for_ttl_s(switch_store: _SwitchStore, clock: FakeClock) -> None:
    switch = KillSwitch(switch_store, "a", clock, ttl_s=1.0)
    switch.check()
    switch_store.flip("a", engaged=True)
    switch.check()  # cached: still off
    assert switch_store.reads == 1
    clock.advance(1.0)
    with pytest.raises(KillSwitchEngaged) as info:
        switch.check()
    assert (info.value.agent, info.value.reason) == ("a", "incident 42")
    assert switch_store.reads == 2


def test_a_fresh_check_always_reads_the_store(switch_store: _SwitchStore, clock: FakeClock) -> None:
    switch = KillSwitch(switch_store, "a", clock, ttl_s=60)
    switch.check()
    switch_store.flip("a", engaged=True, reason="drill")
    with pytest.raises(KillSwitchEngaged, match="drill"):
        switch.check(fresh=True)
    assert switch_store.reads == 2


def test_a_blip_within_the_grace_period_uses_the_last_state(
    switch_store: _SwitchStore, clock: FakeClock
) -> None:
    switch = KillSwitch(switch_store, "a", clock, ttl_s=0.25, grace_s=5.0)
    switch.check()
    switch_store.down = True
    clock.advance(4.9)
    switch.check()  # the last answer, 4.9 s old
    switch.check(fresh=True)
    clock.advance(0.1)
    with pytest.raises(StoreUnavailable, match="cannot be read, so the run does not go on"):
        switch.check()


def test_never_live_without_an_answer(switch_store: _SwitchStore, clock: FakeClock) -> None:
    switch_store.down = True
    with pytest.raises(StoreUnavailable, match="the kill switch of a cannot be read"):
        KillSwitch(switch_store, "a", clock).check()


def test_a_pushed_change_drops_the_cache_of_its_agent_only(
    switch_store: _SwitchStore, clock: FakeClock
) -> None:
    switch = KillSwitch(switch_store, "a", clock, ttl_s=60)
    switch.listen()
    switch.check()
    switch_store.flip("a", engaged=True)
    (notify,) = switch_store.watchers
    notify("b")  # another agent: the cache stands
    switch.check()
    notify("a")
    with pytest.raises(KillSwitchEngaged):
        switch.check()
    switch.close()
    switch.close()
    assert switch_store.unwatched == 1


def test_listening_to_an_unreachable_store_falls_back_to_the_ttl(
    switch_store: _SwitchStore, clock: FakeClock
) -> None:
    def refuse(callback: Callable[[str], None]) -> Callable[[], None]:
        raise StoreUnavailable("no connection")

    switch_store.watch_kill_switches = refuse
    switch = KillSwitch(switch_store, "a", clock, ttl_s=0.25)
    switch.listen()
    switch.close()
    switch.check()


# -- through a governor ------------------------------------------------------------------


def test_kill_switch_in_the_same_process_stops_the_next_call(
    make_governor, spec_factory, store, clock
) -> None:
    gov = make_governor(spec_factory(router_tools()), kill_switch_ttl_s=0.0)
    ran: list[str] = []

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        ran.append(customer_id)
        return "ok"

    with pytest.raises(KillSwitchEngaged), gov.run(input="x") as run:
        run.call("lookup_customer", customer_id="c1")
        store.set_kill_switch(
            "test-agent", engaged=True, reason="drill", actor="oncall", at=clock.now()
        )
        run.call("lookup_customer", customer_id="c2")
    assert ran == ["c1"]
    assert run.status is RunStatus.KILLED
    gov.flush()
    detail = store.get_run(run.id)
    assert detail.run.status is RunStatus.KILLED
    assert detail.tool_calls[-1].status is ToolCallStatus.KILLED
    # New runs do not start while the switch is on; the work goes to the human queue.
    with pytest.raises(KillSwitchEngaged), gov.run(input="y"):
        pytest.fail("must not run")
    gov.flush()
    assert {h.trigger for h in store.list_handoffs()} == {"kill_switch"}
    store.set_kill_switch(
        "test-agent", engaged=False, reason="drill over", actor="oncall", at=clock.now()
    )
    gov.kill_switch.state(fresh=True)
    with gov.run(input="z") as run3:
        run3.resolve()
    assert run3.status is RunStatus.RESOLVED


def test_no_run_starts_when_the_kill_switch_cannot_be_read(
    make_governor, spec_factory, store
) -> None:
    flaky = SwitchableStore(store)
    flaky.down = True
    gov = make_governor(spec_factory({}), store=flaky)
    with pytest.raises(StoreUnavailable), gov.run(input="x"):
        pytest.fail("must not run without a kill-switch answer")
    assert gov.active_run_ids() == []
    flaky.down = False
    gov.flush()
    (record,) = store.list_runs(RunFilter())
    assert record.status is RunStatus.FAILED
    assert record.error_code == "store.unavailable"
