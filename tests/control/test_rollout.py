"""Rollout control on the database under test: stage changes by people (through a check,
compare-and-set on the version, recorded and audited) and the rollout status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from warden.control.rollout import change_stage, rollout_status
from warden.core.rollout import RolloutAction, RolloutState, Stage
from warden.core.runs import SpecVersion
from warden.errors import ControlError, GateNotPassed, TransitionConflict

PLAN: dict[str, Any] = {
    "shadow": {"min_runs": 5, "min_agreement": 0.8, "min_days": 1},
    "canary": {"traffic": 0.25, "min_runs": 5, "clean_days": 1},
    "fallback": "v0.9",
}
AGENT = "test-agent"


@pytest.fixture
def enrolled(store, clock) -> RolloutState:
    """The agent enrolled with a rollout plan, as a governor opening would: in shadow."""
    spec = make_spec({"route": {"access": "write"}}, rollout=PLAN)
    version = store.save_spec_version(SpecVersion.of(spec, clock.now()))
    state = store.enroll_version(version, has_plan=True, at=clock.now())
    assert state is not None and state.stage is Stage.SHADOW
    return state


def _change(store, clock, action: RolloutAction, **kw: Any) -> RolloutState:
    kw.setdefault("actor", "alice")
    kw.setdefault("reason", "gate passed")
    return change_stage(store, AGENT, action, clock=clock, **kw)


def test_advance_moves_one_stage_and_records_who_and_why(store, clock, enrolled) -> None:
    clock.advance(86_400)
    state = _change(store, clock, RolloutAction.ADVANCE, reason="agreement 92%")
    assert (state.stage, state.version) == (Stage.CANARY, enrolled.version + 1)
    assert (state.updated_by, state.reason) == ("alice", "agreement 92%")
    assert state.stage_since == state.updated_at == clock.now()
    assert state.spec_hash == enrolled.spec_hash
    assert store.get_rollout(AGENT) == state
    last = store.list_rollout_transitions(AGENT)[-1]
    assert (last.action, last.from_stage, last.to_stage, last.actor, last.version) == (
        RolloutAction.ADVANCE,
        Stage.SHADOW,
        Stage.CANARY,
        "alice",
        state.version,
    )
    assert _change(store, clock, RolloutAction.ADVANCE).stage is Stage.LIVE


def test_the_check_is_asked_before_advancing_and_may_refuse(store, clock, enrolled) -> None:
    asked: list[tuple[Stage, Stage]] = []

    def gate(current: RolloutState, target: Stage) -> None:
        asked.append((current.stage, target))
        raise GateNotPassed("too few runs: 0 of 5", "inconclusive")

    with pytest.raises(GateNotPassed, match="too few runs"):
        _change(store, clock, RolloutAction.ADVANCE, check=gate)
    assert asked == [(Stage.SHADOW, Stage.CANARY)]
    assert store.get_rollout(AGENT) == enrolled  # nothing changed
    assert len(store.list_rollout_transitions(AGENT)) == 1  # the start only


def test_a_rollback_needs_no_check(store, clock, enrolled) -> None:
    def gate(current: RolloutState, target: Stage) -> None:
        raise AssertionError("a rollback is never gated")

    state = _change(store, clock, RolloutAction.ROLLBACK, check=gate, reason="bad answers")
    assert state.stage is Stage.ROLLED_BACK
    with pytest.raises(ControlError, match="already rolled back"):
        _change(store, clock, RolloutAction.ROLLBACK)
    assert _change(store, clock, RolloutAction.ADVANCE).stage is Stage.SHADOW  # starts again


def test_there_is_no_stage_after_live(store, clock, enrolled) -> None:
    _change(store, clock, RolloutAction.ADVANCE)
    _change(store, clock, RolloutAction.ADVANCE)
    with pytest.raises(ControlError, match="cannot advance from live"):
        _change(store, clock, RolloutAction.ADVANCE)


def test_acting_on_a_stale_view_is_refused(store, clock, enrolled) -> None:
    seen = enrolled.version
    _change(store, clock, RolloutAction.ADVANCE, actor="bob")  # someone else moved first
    with pytest.raises(TransitionConflict, match=f"not {seen}"):
        _change(store, clock, RolloutAction.ROLLBACK, expected_version=seen)
    assert store.get_rollout(AGENT).stage is Stage.CANARY
    state = _change(store, clock, RolloutAction.ROLLBACK, expected_version=seen + 1)
    assert state.stage is Stage.ROLLED_BACK


def test_no_rollout_no_change_and_no_status(store, clock) -> None:
    with pytest.raises(ControlError, match="has no rollout"):
        _change(store, clock, RolloutAction.ADVANCE)
    with pytest.raises(ControlError, match="has no rollout"):
        rollout_status(store, AGENT, clock)


def test_status_tells_stage_traffic_fallback_and_history(store, clock, enrolled) -> None:
    status = rollout_status(store, AGENT, clock)
    assert (status.agent, status.stage, status.stored_stage) == (AGENT, Stage.SHADOW, Stage.SHADOW)
    assert (status.spec_hash, status.version) == (enrolled.spec_hash, enrolled.version)
    assert status.traffic is None
    assert status.fallback == "v0.9"
    assert not status.kill_switch.engaged
    assert status.gate is not None and status.gate.stage is Stage.SHADOW
    assert [t.action for t in status.transitions] == [RolloutAction.START]
    _change(store, clock, RolloutAction.ADVANCE)
    canary = rollout_status(store, AGENT, clock)
    assert (canary.stage, canary.traffic) == (Stage.CANARY, 0.25)
    assert [t.action for t in rollout_status(store, AGENT, clock, history=1).transitions] == [
        RolloutAction.ADVANCE
    ]


def test_status_shows_paused_while_the_kill_switch_is_on(store, clock, enrolled) -> None:
    store.set_kill_switch(AGENT, engaged=True, reason="incident", actor="oncall", at=clock.now())
    status = rollout_status(store, AGENT, clock)
    assert (status.stage, status.stored_stage) == (Stage.PAUSED, Stage.SHADOW)
    assert status.kill_switch.engaged
