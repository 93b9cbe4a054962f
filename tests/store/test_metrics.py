"""Run samples on the database under test: ended runs in the window, their tool calls
counted."""

from __future__ import annotations

from datetime import timedelta

from warden.core.clock import FakeClock
from warden.core.events import RunRecorded, ToolCallRecorded
from warden.core.runs import RunMode, RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.store import SqlStore


def test_samples_are_the_ended_runs_in_the_window_with_their_calls_counted(
    store: SqlStore, clock: FakeClock
) -> None:
    t0 = clock.now()

    def run(run_id: str, ended_min: int | None, **fields) -> RunRecorded:
        ended = t0 + timedelta(minutes=ended_min) if ended_min is not None else None
        status = RunStatus.RESOLVED if ended is not None else RunStatus.RUNNING
        base = {"id": run_id, "agent": "a", "spec_hash": "h1", "started_at": t0}
        return RunRecorded(run=RunRecord(**(base | {"status": status, "ended_at": ended} | fields)))

    def call(run_id: str, seq: int, status: ToolCallStatus) -> ToolCallRecorded:
        return ToolCallRecorded(
            call=ToolCallRecord(run_id=run_id, seq=seq, tool="t", status=status, started_at=t0)
        )

    store.apply(
        [
            run("old", 1),
            run("r1", 10, latency_s=2.0, cost_usd=0.5),
            run("r2", 20, spec_hash="h2", mode=RunMode.SHADOW),
            run("open", None),
            run("other", 10, agent="b"),
            call("r1", 1, ToolCallStatus.SUCCEEDED),
            call("r1", 2, ToolCallStatus.DENIED),
            call("r1", 3, ToolCallStatus.FAILED),
            call("r1", 4, ToolCallStatus.DENIED),
            call("old", 1, ToolCallStatus.DENIED),
        ]
    )
    since = t0 + timedelta(minutes=5)
    samples = {s.run_id: s for s in store.run_samples("a", since=since)}
    assert set(samples) == {"r1", "r2"}
    r1 = samples["r1"]
    assert (r1.tool_calls, r1.denied_calls, r1.failed_calls) == (4, 2, 1)
    assert (r1.latency_s, r1.cost_usd, r1.status) == (2.0, 0.5, RunStatus.RESOLVED)
    assert samples["r2"].tool_calls == 0
    assert [s.run_id for s in store.run_samples("a", since=since, spec_hash="h2")] == ["r2"]
    assert [s.run_id for s in store.run_samples("a", mode=RunMode.SHADOW)] == ["r2"]
    assert len(store.run_samples("a")) == 3
