"""The kill-switch gate: no call proceeds while the switch is on, or cannot be read."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeKillSwitch, FakeRun, RecordingProceed, call_context
from warden.errors import KillSwitchEngaged, StoreUnavailable
from warden.runtime.chain import KillSwitchGate


def _ctx():
    return call_context(FakeRun(make_spec({"lookup": {"access": "read"}})), "lookup")


def test_switch_off_proceeds_after_one_cached_check(
    kill_switch: FakeKillSwitch, proceed: RecordingProceed
) -> None:
    ctx = _ctx()
    assert KillSwitchGate(kill_switch)(ctx, proceed) == "done"
    assert proceed.calls == [ctx]
    assert kill_switch.checks == [False]  # the cached state (ttl_s), not a fresh read


def test_switch_on_stops_the_call_before_proceeding(
    kill_switch: FakeKillSwitch, proceed: RecordingProceed
) -> None:
    kill_switch.engage("incident 42")
    ctx = _ctx()
    with pytest.raises(KillSwitchEngaged) as info:
        KillSwitchGate(kill_switch)(ctx, proceed)
    assert info.value.reason == "incident 42"
    assert not proceed.called
    assert ctx.status is None  # the run records it as killed (Run.call_tool)


def test_an_unreadable_switch_stops_the_call_too(
    kill_switch: FakeKillSwitch, proceed: RecordingProceed
) -> None:
    kill_switch.error = StoreUnavailable("the kill switch of test-agent cannot be read")
    with pytest.raises(StoreUnavailable):
        KillSwitchGate(kill_switch)(_ctx(), proceed)
    assert not proceed.called


def test_a_kill_between_two_calls_stops_the_second(
    kill_switch: FakeKillSwitch, proceed: RecordingProceed
) -> None:
    gate = KillSwitchGate(kill_switch)
    gate(_ctx(), proceed)
    kill_switch.engage()
    with pytest.raises(KillSwitchEngaged):
        gate(_ctx(), proceed)
    assert len(proceed.calls) == 1
    assert kill_switch.checks == [False, False]
