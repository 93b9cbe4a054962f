"""Write-ahead: before a write or approval tool runs, the recorder is flushed; when the
store cannot be reached the write does not run. Reads never wait for the store."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRecorder, FakeRun, RecordingProceed, call_context
from warden.core.runs import ToolCallStatus
from warden.errors import StoreUnavailable
from warden.runtime.chain import WriteAhead

SPEC = make_spec(
    {
        "lookup": {"access": "read"},
        "route_ticket": {"access": "write", "idempotent": True},
        "close_account": {"access": "approval"},
    }
)


@pytest.mark.parametrize("tool", ["route_ticket", "close_account"])
def test_a_write_flushes_before_it_proceeds(
    recorder: FakeRecorder, proceed: RecordingProceed, journal: list[str], tool: str
) -> None:
    assert WriteAhead(recorder)(call_context(FakeRun(SPEC), tool), proceed) == "done"
    assert journal == ["flush", "proceed"]


@pytest.mark.parametrize("tool", ["lookup", "not_in_the_spec"])
def test_reads_and_unknown_tools_do_not_flush(
    recorder: FakeRecorder, proceed: RecordingProceed, journal: list[str], tool: str
) -> None:
    WriteAhead(recorder)(call_context(FakeRun(SPEC), tool), proceed)
    assert journal == ["proceed"]


def test_a_write_does_not_run_while_the_store_is_down(
    recorder: FakeRecorder, proceed: RecordingProceed
) -> None:
    recorder.down = True
    ctx = call_context(FakeRun(SPEC), "route_ticket")
    with pytest.raises(StoreUnavailable):
        WriteAhead(recorder)(ctx, proceed)
    assert not proceed.called
    assert ctx.status is ToolCallStatus.NOT_RUN


def test_a_read_runs_while_the_store_is_down(
    recorder: FakeRecorder, proceed: RecordingProceed
) -> None:
    recorder.down = True
    ctx = call_context(FakeRun(SPEC), "lookup")
    assert WriteAhead(recorder)(ctx, proceed) == "done"
    assert recorder.flushes == 0
    assert ctx.status is ToolCallStatus.SUCCEEDED
