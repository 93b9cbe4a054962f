"""Idempotency: a write carries a key stable for the same run and arguments; a write
already applied under its key is reused, not run again; a successful write is recorded."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tests.conftest import make_spec
from tests.runtime.chain.fakes import (
    FakeRecorder,
    FakeRun,
    FakeStore,
    RecordingProceed,
    call_context,
)
from warden.core.clock import FakeClock
from warden.core.events import IdempotencyRecorded
from warden.core.runs import IdempotencyRecord, ToolCallStatus
from warden.runtime.chain import Idempotency, idempotency_key

SPEC = make_spec(
    {
        "lookup": {"access": "read"},
        "lookup_cached": {"access": "read", "idempotent": True},
        "route_ticket": {"access": "write"},
        "close_account": {"access": "approval"},
    }
)


class Routed(BaseModel):
    ticket_id: str
    queue: str


def route_ticket(ticket_id: str, queue: str) -> Routed:
    raise AssertionError("the rest of the chain is faked")


@pytest.fixture
def idem(fake_store: FakeStore, recorder: FakeRecorder, clock: FakeClock) -> Idempotency:
    return Idempotency(fake_store, recorder, clock)


def _write(run: FakeRun, queue: str = "card_arrival", **kw):
    return call_context(run, "route_ticket", {"ticket_id": "t1", "queue": queue}, **kw)


def _record(key: str, result: object, clock: FakeClock) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        run_id="run_test",
        tool="route_ticket",
        args_hash="h",
        result=result,
        created_at=clock.now(),
    )


def test_the_key_is_stable_for_the_same_agent_run_and_arguments() -> None:
    key = idempotency_key("agent", "run_1", "hash")
    assert key == idempotency_key("agent", "run_1", "hash")
    assert key.startswith("idem_")
    assert len(key) == len("idem_") + 40
    assert set(key[5:]) <= set("0123456789abcdef")
    others = {
        idempotency_key("other", "run_1", "hash"),
        idempotency_key("agent", "run_2", "hash"),
        idempotency_key("agent", "run_1", "other"),
    }
    assert key not in others
    assert len(others) == 3


def test_a_write_gets_the_key_of_its_run_and_arguments(
    idem: Idempotency, proceed: RecordingProceed
) -> None:
    run = FakeRun(SPEC)
    first, again = _write(run), _write(run)
    idem(first, proceed)
    assert first.idempotency_key == idempotency_key("test-agent", "run_test", first.call.args_hash)
    run.applied_writes.clear()  # run it again, as after a restart that resumes the run
    idem(again, proceed)
    assert again.idempotency_key == first.idempotency_key
    other_args, other_run = _write(run, queue="refunds"), _write(FakeRun(SPEC, id="run_other"))
    idem(other_args, proceed)
    idem(other_run, proceed)
    assert len({first.idempotency_key, other_args.idempotency_key, other_run.idempotency_key}) == 3


def test_an_explicit_key_is_kept(idem: Idempotency, proceed: RecordingProceed) -> None:
    ctx = _write(FakeRun(SPEC), idempotency_key="order-42")
    idem(ctx, proceed)
    assert ctx.idempotency_key == "order-42"


def test_a_successful_write_is_recorded_under_its_key(
    idem: Idempotency,
    proceed: RecordingProceed,
    fake_store: FakeStore,
    recorder: FakeRecorder,
    clock: FakeClock,
) -> None:
    clock.advance(5)
    run = FakeRun(SPEC)
    ctx = _write(run)
    proceed.result = {"ticket_id": "t1", "queue": "card_arrival"}
    assert idem(ctx, proceed) == {"ticket_id": "t1", "queue": "card_arrival"}
    assert proceed.calls == [ctx]
    assert fake_store.idempotency_lookups == [ctx.idempotency_key]  # looked up first
    (event,) = recorder.emitted
    assert isinstance(event, IdempotencyRecorded)
    record = event.record
    assert (record.key, record.run_id, record.tool, record.args_hash) == (
        ctx.idempotency_key,
        "run_test",
        "route_ticket",
        ctx.call.args_hash,
    )
    assert record.result == {"ticket_id": "t1", "queue": "card_arrival"}  # ctx.result_json
    assert record.created_at == clock.now()
    assert run.applied_writes == {ctx.idempotency_key: record}


def test_a_write_applied_before_is_reused_without_running(
    idem: Idempotency,
    proceed: RecordingProceed,
    fake_store: FakeStore,
    recorder: FakeRecorder,
    clock: FakeClock,
) -> None:
    run = FakeRun(SPEC)
    ctx = _write(run, fn=route_ticket)
    key = idempotency_key("test-agent", "run_test", ctx.call.args_hash)
    stored = {"ticket_id": "t1", "queue": "card_arrival"}
    fake_store.idempotency[key] = _record(key, stored, clock)  # e.g. by the process before
    result = idem(ctx, proceed)
    assert result == Routed(ticket_id="t1", queue="card_arrival")  # validated like a result
    assert not proceed.called
    assert ctx.status is ToolCallStatus.REUSED
    assert ctx.result_json == stored
    assert recorder.emitted == []


def test_a_write_repeated_in_the_same_run_is_reused_from_the_run(
    idem: Idempotency, proceed: RecordingProceed, clock: FakeClock
) -> None:
    run = FakeRun(SPEC)
    proceed.result = "routed t1"
    first = _write(run)
    assert idem(first, proceed) == "routed t1"
    clock.advance(60)
    second = _write(run, seq=2)
    assert idem(second, proceed) == "routed t1"  # the store has not seen it yet
    assert proceed.calls == [first]
    assert second.status is ToolCallStatus.REUSED


def test_a_failed_write_is_not_recorded(
    idem: Idempotency, fake_store: FakeStore, recorder: FakeRecorder
) -> None:
    run = FakeRun(SPEC)
    failing = RecordingProceed(outcomes=[ConnectionError("crm down")])
    with pytest.raises(ConnectionError):
        idem(_write(run), failing)
    assert recorder.emitted == []
    assert run.applied_writes == {}
    again = RecordingProceed(result="ok")
    assert idem(_write(run), again) == "ok"  # so the next try runs it
    assert again.called


def test_an_approval_tool_is_a_write(
    idem: Idempotency, proceed: RecordingProceed, recorder: FakeRecorder
) -> None:
    ctx = call_context(FakeRun(SPEC), "close_account", {"account": "a1"})
    idem(ctx, proceed)
    assert ctx.idempotency_key is not None
    assert len(recorder.emitted) == 1


def test_a_plain_read_has_no_key_and_is_never_reused(
    idem: Idempotency, proceed: RecordingProceed, fake_store: FakeStore, recorder: FakeRecorder
) -> None:
    run = FakeRun(SPEC)
    for seq in (1, 2):
        ctx = call_context(run, "lookup", {"id": "c1"}, seq=seq)
        idem(ctx, proceed)
        assert ctx.idempotency_key is None
    assert len(proceed.calls) == 2
    assert fake_store.idempotency_lookups == []
    assert recorder.emitted == []


def test_an_idempotent_read_gets_a_key_but_nothing_is_stored(
    idem: Idempotency, proceed: RecordingProceed, fake_store: FakeStore, recorder: FakeRecorder
) -> None:
    run = FakeRun(SPEC)
    for seq in (1, 2):
        ctx = call_context(run, "lookup_cached", {"id": "c1"}, seq=seq)
        idem(ctx, proceed)
        assert ctx.idempotency_key == idempotency_key("test-agent", "run_test", ctx.call.args_hash)
    assert len(proceed.calls) == 2  # runs each time: only writes are reused
    assert fake_store.idempotency_lookups == []
    assert recorder.emitted == []
    assert run.applied_writes == {}


def test_a_tool_not_in_the_spec_passes_through(
    idem: Idempotency, proceed: RecordingProceed
) -> None:
    ctx = call_context(FakeRun(SPEC), "nope")
    idem(ctx, proceed)
    assert ctx.idempotency_key is None
    assert proceed.calls == [ctx]
