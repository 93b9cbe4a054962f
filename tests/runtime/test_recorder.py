"""Store unreachable: write tools fail closed, records spool locally, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from warden import RunStatus, StoreUnavailable, ToolCallStatus
from warden.core.events import RunRecorded
from warden.core.runs import RunFilter, RunRecord
from warden.runtime.recorder import Recorder
from warden.testing import SwitchableStore


def test_write_tool_does_not_run_while_the_store_is_down(
    make_governor, spec_factory, store, tmp_path
) -> None:
    flaky = SwitchableStore(store)
    spec = spec_factory(
        {
            "lookup_customer": {"access": "read"},
            "route_ticket": {"access": "write", "idempotent": True},
        },
        escalation={"queue": "tier1-humans", "on": []},
    )
    gov = make_governor(spec, store=flaky, flush_interval_s=60)  # only explicit flushes
    routed: list[str] = []
    looked_up: list[str] = []

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        looked_up.append(customer_id)
        return "gold"

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        routed.append(ticket_id)
        return "ok"

    with gov.run(input="my card") as run:
        flaky.down = True  # the database goes away mid-run
        assert run.call("lookup_customer", customer_id="c1") == "gold"  # reads still work
        run.call("route_ticket", ticket_id="t1", queue="card_arrival")
    assert routed == []  # fail closed
    assert looked_up == ["c1"]
    assert run.status is RunStatus.FAILED
    assert run.error_code == "store.unavailable"
    with pytest.raises(StoreUnavailable):
        gov.flush()
    spooled = list((tmp_path / "spool").glob("spool-*.jsonl"))
    assert spooled and spooled[0].stat().st_size > 0

    flaky.down = False
    gov.flush()  # replays the spool first, in order
    assert not list((tmp_path / "spool").glob("spool-*.jsonl"))
    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.status is RunStatus.FAILED
    assert [(c.tool, c.status) for c in detail.tool_calls] == [
        ("lookup_customer", ToolCallStatus.SUCCEEDED),
        ("route_ticket", ToolCallStatus.NOT_RUN),
    ]
    # With the store back, writes run again (the cached kill-switch state is refreshed).
    gov.kill_switch.state(fresh=True)
    with gov.run(input="again") as run2:
        run2.call("route_ticket", ticket_id="t2", queue="card_arrival")
        run2.resolve()
    assert routed == ["t2"]


def test_spool_left_by_a_dead_process_is_replayed_by_the_next(store, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    record = RunRecord(id="run_orphan", agent="a", spec_hash="h", started_at=datetime.now(UTC))
    dead_pid = 2**22 + 12345  # above pid_max on Linux: no such process
    from warden.core.events import EventAdapter

    (spool_dir / f"spool-{dead_pid}-1.jsonl").write_bytes(
        EventAdapter.dump_json(RunRecorded(run=record)) + b"\n"
    )
    recorder = Recorder(store, spool_dir)
    recorder.close()
    assert store.get_run("run_orphan") is not None
    assert not list(spool_dir.glob("*.jsonl"))


def test_background_flush_writes_without_being_asked(make_governor, spec_factory, store) -> None:
    import time

    gov = make_governor(spec_factory({}), flush_interval_s=0.01)
    with gov.run(input="x") as run:
        run.resolve()
    deadline = time.monotonic() + 5

    def stored() -> RunStatus | None:
        detail = store.get_run(run.id)
        return detail.run.status if detail is not None else None

    # the start record may land in an earlier batch than the end: wait for the end
    while stored() is not RunStatus.RESOLVED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stored() is RunStatus.RESOLVED


def test_a_late_running_record_never_reopens_a_finished_run(store) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    running = RunRecord(id="r1", agent="a", spec_hash="h", started_at=now)
    done = running.model_copy(update={"status": RunStatus.RESOLVED, "ended_at": now})
    store.apply([RunRecorded(run=done)])
    store.apply([RunRecorded(run=running)])
    store.apply([RunRecorded(run=done), RunRecorded(run=running)])
    assert store.get_run("r1").run.status is RunStatus.RESOLVED


class _SlowStore(SwitchableStore):
    """A store whose writes take ``delay_s`` and which remembers the largest batch."""

    def __init__(self, inner, delay_s: float) -> None:
        super().__init__(inner)
        self.delay_s = delay_s
        self.largest = 0

    def apply(self, events) -> None:
        import time

        self.largest = max(self.largest, len(events))
        time.sleep(self.delay_s)
        self.inner.apply(events)


def _running(i: int) -> RunRecorded:
    from datetime import UTC, datetime

    return RunRecorded(
        run=RunRecord(id=f"run_{i}", agent="a", spec_hash="h", started_at=datetime.now(UTC))
    )


def test_a_producer_faster_than_the_store_is_held_to_a_bounded_queue(store, tmp_path) -> None:
    slow = _SlowStore(store, delay_s=0.02)
    recorder = Recorder(
        slow, tmp_path / "spool", flush_interval_s=0.01, max_batch=50, max_queue=200
    )
    longest = 0
    for i in range(2_000):  # far faster than one 20 ms write per batch
        recorder.emit(_running(i))
        longest = max(longest, len(recorder._queue))
    recorder.close()
    assert longest <= 200
    assert slow.largest <= 200
    assert len(store.list_runs(RunFilter(agent="a", limit=5_000))) == 2_000


def test_a_full_queue_spools_when_the_store_is_down_and_emit_does_not_raise(
    store, tmp_path
) -> None:
    flaky = SwitchableStore(store)
    recorder = Recorder(flaky, tmp_path / "spool", flush_interval_s=60, max_batch=10, max_queue=10)
    flaky.down = True
    for i in range(25):
        recorder.emit(_running(i))  # the 10th and 20th emit write (spool) the queue
        assert len(recorder._queue) < 10
    assert recorder.spool.pending and not recorder.healthy
    flaky.down = False
    recorder.close()
    assert len(store.list_runs(RunFilter(agent="a", limit=100))) == 25
