"""The rollout in the runtime: each run's mode comes from the stage, the split and the kill
switch; fallback runs are recorded and handed over; a new spec version restarts the gate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from warden import KillSwitchEngaged, Proposal, RunMode, RunStatus
from warden.control.gates import readiness
from warden.control.rollout import change_stage
from warden.core.rollout import RolloutAction, Stage
from warden.core.runs import RunFilter
from warden.core.traffic import in_slice
from warden.errors import ConfigError, RunRerouted
from warden.testing import SwitchableStore

TOOLS: dict[str, Any] = {
    "lookup_customer": {"access": "read"},
    "route_ticket": {"access": "write", "idempotent": True},
}
PLAN: dict[str, Any] = {
    "shadow": {"min_runs": 5, "min_agreement": 0.8, "min_days": 1},
    "canary": {"traffic": 0.25, "min_runs": 5, "clean_days": 1},
}


@pytest.fixture
def gov(make_governor, spec_factory):
    g = make_governor(spec_factory(TOOLS, rollout=PLAN), kill_switch_ttl_s=0.0)
    routed: list[str] = []

    @g.tool
    def lookup_customer(customer_id: str) -> str:
        return "gold"

    @g.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        routed.append(ticket_id)
        return "ok"

    g.routed = routed  # type: ignore[attr-defined]
    return g


def handle(gov, key: str) -> Any:
    with gov.run(input={"ticket": key}, routing_key=key) as run:
        result = run.call("route_ticket", ticket_id=key, queue="card_arrival")
        run.resolve(output="card_arrival")
    return run, result


def test_an_agent_with_a_plan_starts_in_shadow(gov, store) -> None:
    state = store.get_rollout("test-agent")
    assert (state.stage, state.version, state.spec_hash) == (Stage.SHADOW, 1, gov.spec_hash)
    run, result = handle(gov, "c-1")
    assert run.mode is RunMode.SHADOW
    assert isinstance(result, Proposal)
    assert gov.routed == []  # a write in shadow is a proposal
    assert store.list_rollout_transitions("test-agent")[0].action is RolloutAction.START
    assert store.list_audit(agent="test-agent")[0].action == "rollout.start"


def test_canary_runs_live_in_the_slice_and_falls_back_outside(gov, store, clock) -> None:
    change_stage(
        store, "test-agent", RolloutAction.ADVANCE, actor="alice", reason="go", clock=clock
    )
    keys = [f"c-{i}" for i in range(40)]
    live, rerouted = [], []
    for key in keys:
        try:
            run, _ = handle(gov, key)
            live.append(key)
            assert run.mode is RunMode.LIVE
        except RunRerouted as exc:
            rerouted.append((key, exc.route, "canary slice" in exc.reason))
    assert live == [k for k in keys if in_slice("test-agent", k, 0.25)]
    assert rerouted and live
    assert {(route, why) for _, route, why in rerouted} == {("human_queue", True)}
    assert gov.routed == live
    gov.flush()
    handoffs = {h.run_id: h for h in store.list_handoffs("tier1-humans")}
    assert len(handoffs) == len(rerouted)
    assert {h.trigger for h in handoffs.values()} == {"fallback"}
    detail = store.get_run(next(iter(handoffs)))
    assert (detail.run.mode, detail.run.status) == (RunMode.FALLBACK, RunStatus.ESCALATED)
    assert detail.run.error_code == "run.rerouted"


def test_the_same_key_always_gets_the_same_mode(gov, store, clock) -> None:
    change_stage(store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=clock)
    for key in ("c-1", "c-2", "c-3", "c-4"):
        modes = {gov.run(routing_key=key).mode for _ in range(5)}
        assert len(modes) == 1


def test_live_and_rolled_back(gov, store, clock) -> None:
    for _ in range(2):
        change_stage(
            store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=clock
        )
    assert gov.run(routing_key="any").mode is RunMode.LIVE
    change_stage(store, "test-agent", RolloutAction.ROLLBACK, actor="a", reason="bad", clock=clock)
    run = gov.run(routing_key="any")
    assert (run.mode, run.fallback) == (RunMode.FALLBACK, "human_queue")
    with pytest.raises(RunRerouted, match="rolled back"), run:
        pytest.fail("a rolled-back agent does not run")
    assert run.status is RunStatus.ESCALATED


def test_the_kill_switch_makes_runs_fall_back_and_end_killed(gov, store, clock) -> None:
    store.set_kill_switch("test-agent", engaged=True, reason="drill", actor="dana", at=clock.now())
    run = gov.run(routing_key="c-1")
    assert run.mode is RunMode.FALLBACK
    assert run.route is not None and run.route.killed
    with pytest.raises(KillSwitchEngaged), run:
        pytest.fail("must not run")
    assert run.status is RunStatus.KILLED


def test_an_unreadable_rollout_falls_back_never_live(make_governor, spec_factory, store) -> None:
    flaky = SwitchableStore(store)
    g = make_governor(spec_factory(TOOLS, rollout=PLAN), store=flaky, kill_switch_ttl_s=0.0)
    change_stage(store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=g.clock)
    change_stage(store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=g.clock)
    assert g.run(routing_key="k").mode is RunMode.LIVE
    flaky.down = True
    route = g.run(routing_key="k").route
    assert route is not None
    assert route.mode is RunMode.FALLBACK
    assert "cannot be read" in route.reason


def test_a_forced_mode_needs_the_dangerous_flag(gov, store) -> None:
    """Regression (issue Authority): ``wd.run(mode="live")`` executed writes while the
    rollout was in shadow, with no audit entry."""
    with pytest.raises(ConfigError, match="dangerously_override_rollout=True"):
        gov.run(mode="live")
    with pytest.raises(ConfigError, match="unknown run mode"):
        gov.run(mode="sideways", dangerously_override_rollout=True)
    assert store.list_runs(RunFilter()) == []


def test_a_forced_mode_skips_the_split_and_is_recorded_audited_and_fails_readiness(
    gov, store, clock
) -> None:
    change_stage(store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=clock)
    outside = next(f"k-{i}" for i in range(100) if not in_slice("test-agent", f"k-{i}", 0.25))
    assert gov.run(routing_key=outside).mode is RunMode.FALLBACK
    assert readiness(store, gov.spec, clock).item("no_rollout_overrides").status.value == "pass"
    with gov.run(routing_key=outside, mode="live", dangerously_override_rollout=True) as run:
        run.call("route_ticket", ticket_id="t-1", queue="q")
        run.resolve()
    assert run.status is RunStatus.RESOLVED
    gov.recorder.flush()
    stored = store.list_runs(RunFilter(mode_override=True))
    assert [r.id for r in stored] == [run.id]
    entry = next(e for e in store.list_audit(agent="test-agent") if e.subject == run.id)
    assert entry.action == "run.mode_override"
    assert json.loads(entry.after or "") == {
        "mode": "live",
        "spec_hash": gov.spec_hash,
        "status": "resolved",
    }
    item = readiness(store, gov.spec, clock).item("no_rollout_overrides")
    assert item.status.value == "fail"
    assert "1 run(s) of this version" in item.detail
    clock.advance(8 * 86400)  # a week later, with no new override, the item passes again
    assert readiness(store, gov.spec, clock).item("no_rollout_overrides").status.value == "pass"


def test_agents_without_a_plan_run_live_and_have_no_rollout(
    make_governor, spec_factory, store
) -> None:
    g = make_governor(spec_factory(TOOLS))
    assert g.run(routing_key="k").mode is RunMode.LIVE
    assert store.get_rollout("test-agent") is None


def test_a_new_spec_version_restarts_the_gate_of_the_current_stage(
    make_governor, spec_factory, store, clock
) -> None:
    first = make_governor(spec_factory(TOOLS, rollout=PLAN))
    change_stage(store, "test-agent", RolloutAction.ADVANCE, actor="a", reason="go", clock=clock)
    clock.advance(86400 * 3)
    changed = {**TOOLS, "lookup_customer": {"access": "read", "max_attempts": 2}}
    second = make_governor(spec_factory(changed, rollout=PLAN))
    assert second.spec_hash != first.spec_hash
    state = store.get_rollout("test-agent")
    assert (state.stage, state.spec_hash) == (Stage.CANARY, second.spec_hash)
    assert state.stage_since == clock.now()
    last = store.list_rollout_transitions("test-agent")[-1]
    assert (last.action, last.actor) == (RolloutAction.RESTART_GATE, "warden")
    assert "starts again" in last.reason
    # opening the same version again changes nothing
    make_governor(spec_factory(changed, rollout=PLAN))
    assert store.get_rollout("test-agent").version == state.version


def test_a_version_fallback_is_left_to_the_caller(
    make_governor, spec_factory, store, clock
) -> None:
    g = make_governor(spec_factory(TOOLS, rollout={**PLAN, "fallback": "0.9.0"}))
    change_stage(store, "test-agent", RolloutAction.ROLLBACK, actor="a", reason="bad", clock=clock)
    run = g.run(routing_key="k")
    with pytest.raises(RunRerouted) as caught, run:
        pytest.fail("must not run")
    assert caught.value.route == "0.9.0"
    assert run.status is RunStatus.ESCALATED
    assert run.reason is not None and run.reason.startswith("Rerouted to 0.9.0")
    g.flush()
    assert store.list_handoffs() == []
