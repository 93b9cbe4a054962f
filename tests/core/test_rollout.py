"""Rollout stages and routing, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warden.core.killswitch import KillSwitchState
from warden.core.rollout import (
    RolloutAction,
    RolloutState,
    Stage,
    effective_stage,
    next_stage,
    route,
)
from warden.core.runs import RunMode
from warden.core.spec import Rollout
from warden.core.traffic import in_slice
from warden.errors import ControlError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLAN = Rollout.model_validate({"canary": {"traffic": 0.2}})


def state(stage: Stage) -> RolloutState:
    return RolloutState(
        agent="a", stage=stage, spec_hash="h", stage_since=T0, updated_at=T0, updated_by="x"
    )


def test_advance_goes_shadow_canary_live_and_rolled_back_restarts_in_shadow() -> None:
    assert next_stage(Stage.SHADOW, RolloutAction.ADVANCE) is Stage.CANARY
    assert next_stage(Stage.CANARY, RolloutAction.ADVANCE) is Stage.LIVE
    assert next_stage(Stage.ROLLED_BACK, RolloutAction.ADVANCE) is Stage.SHADOW
    with pytest.raises(ControlError, match="last stage"):
        next_stage(Stage.LIVE, RolloutAction.ADVANCE)


def test_rollback_from_any_stage_but_rolled_back() -> None:
    for stage in (Stage.SHADOW, Stage.CANARY, Stage.LIVE):
        assert next_stage(stage, RolloutAction.ROLLBACK) is Stage.ROLLED_BACK
    with pytest.raises(ControlError, match="already"):
        next_stage(Stage.ROLLED_BACK, RolloutAction.ROLLBACK)


def test_paused_is_the_kill_switch() -> None:
    on = KillSwitchState(agent="a", engaged=True, reason="r")
    assert effective_stage(state(Stage.CANARY), on) is Stage.PAUSED
    assert effective_stage(state(Stage.CANARY), KillSwitchState(agent="a")) is Stage.CANARY
    assert effective_stage(None, None) is None


def test_routing_by_stage() -> None:
    off = KillSwitchState(agent="a")
    assert route("a", None, None, off, "k", "r").mode is RunMode.LIVE
    assert route("a", PLAN, None, off, "k", "r").mode is RunMode.SHADOW  # not started yet
    assert route("a", PLAN, state(Stage.SHADOW), off, "k", "r").mode is RunMode.SHADOW
    assert route("a", PLAN, state(Stage.LIVE), off, "k", "r").mode is RunMode.LIVE
    back = route("a", PLAN, state(Stage.ROLLED_BACK), off, "k", "r")
    assert (back.mode, back.fallback) == (RunMode.FALLBACK, "human_queue")


def test_the_kill_switch_sends_every_run_to_the_fallback() -> None:
    on = KillSwitchState(agent="a", engaged=True, reason="spike")
    for stage in (Stage.SHADOW, Stage.CANARY, Stage.LIVE):
        r = route("a", PLAN, state(stage), on, "k", "r")
        assert (r.mode, r.killed) == (RunMode.FALLBACK, True)
        assert "spike" in r.reason
    assert route("a", None, None, on, "k", "r").killed


def test_canary_routes_by_the_sticky_split() -> None:
    off = KillSwitchState(agent="a")
    keys = [f"c-{i}" for i in range(2000)]
    modes = {k: route("a", PLAN, state(Stage.CANARY), off, k, "r").mode for k in keys}
    assert all((m is RunMode.LIVE) == in_slice("a", k, 0.2) for k, m in modes.items())
    assert 300 < sum(m is RunMode.LIVE for m in modes.values()) < 500
