"""Applying and approving spec versions on the database under test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import make_spec
from warden.control.rollout import change_stage
from warden.control.scope import apply_spec, approve_spec
from warden.core.rollout import RolloutAction, Stage
from warden.core.runs import RunMode
from warden.core.scope import ChangeKind, ChangeStatus
from warden.errors import ConfigError, ControlError, NotFoundError

TOOLS: dict[str, Any] = {"route": {"access": "write", "arguments": {"queue": {"enum": ["a", "b"]}}}}
WIDER: dict[str, Any] = {
    "route": {"access": "write", "arguments": {"queue": {"enum": ["a", "b", "c"]}}}
}
NARROWER: dict[str, Any] = {"route": {"access": "write", "arguments": {"queue": {"enum": ["a"]}}}}
PLAN: dict[str, Any] = {"stability_window_days": 30}
ALICE, BOB = "alice@example.com", "bob@example.com"  # owner and backup owner in conftest


def spec(tools: dict[str, Any]):
    return make_spec(tools, rollout=PLAN)


def test_an_expansion_applied_by_one_owner_stays_pending_until_the_other_approves(
    store, clock
) -> None:
    first = apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock)
    assert (first.kind, first.status) == (ChangeKind.INITIAL, ChangeStatus.APPLIED)
    clock.advance(60)
    change = apply_spec(store, spec(WIDER), actor=ALICE, clock=clock)
    assert (change.kind, change.status) == (ChangeKind.EXPANSION, ChangeStatus.PENDING)
    assert [i.path for i in change.items] == ["spec.tools.route.arguments.queue.enum"]
    assert store.current_spec_change("test-agent").to_hash == first.to_hash  # still in force
    with pytest.raises(ControlError, match="other than the person who applied"):
        approve_spec(store, change.to_hash[:12], actor=ALICE, clock=clock)
    with pytest.raises(ControlError, match="not an owner"):
        approve_spec(store, change.to_hash[:12], actor="mallory@example.com", clock=clock)
    assert store.current_spec_change("test-agent").to_hash == first.to_hash
    approved = approve_spec(store, change.to_hash[:12], actor=BOB, clock=clock, reason="ok")
    assert (approved.status, approved.approved_by) == (ChangeStatus.APPLIED, BOB)
    assert store.current_spec_change("test-agent").to_hash == change.to_hash
    with pytest.raises(NotFoundError):
        approve_spec(store, change.to_hash[:12], actor=BOB, clock=clock)
    actions = [e.action for e in store.list_audit(agent="test-agent")]
    assert actions.count("spec.apply") == 2
    assert "spec.approve" in actions


def test_a_contraction_applies_at_once(store, clock) -> None:
    apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock)
    change = apply_spec(store, spec(NARROWER), actor=ALICE, clock=clock)
    assert (change.kind, change.status) == (ChangeKind.CONTRACTION, ChangeStatus.APPLIED)
    assert store.current_spec_change("test-agent").to_hash == change.to_hash
    again = apply_spec(store, spec(NARROWER), actor=BOB, clock=clock)
    assert again.id == change.id  # applying the version in force changes nothing


def test_a_pending_version_falls_back_until_approved(make_governor, store, clock) -> None:
    apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock)
    old = make_governor(spec(TOOLS))
    assert old.run(routing_key="k", mode=None).mode is RunMode.SHADOW
    change = apply_spec(store, spec(WIDER), actor=ALICE, clock=clock)
    new = make_governor(spec(WIDER))
    route = new.run(routing_key="k").route
    assert route is not None and route.mode is RunMode.FALLBACK
    assert "waiting for another owner's approval" in route.reason
    approve_spec(store, change.id, actor=BOB, clock=clock)
    clock.advance(5)  # the standing is re-read every 5 s
    assert new.run(routing_key="k").mode is RunMode.SHADOW
    old_route = old.run(routing_key="k").route
    assert old_route is not None and "not the version in force" in old_route.reason


def test_an_unmanaged_agent_runs_any_spec(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory(TOOLS))
    assert gov.run().mode is RunMode.LIVE


def test_approval_restarts_the_gate(store, clock) -> None:
    first = apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock)
    assert store.get_rollout("test-agent").spec_hash == first.to_hash
    clock.advance(86400)
    change = apply_spec(store, spec(WIDER), actor=ALICE, clock=clock)
    assert store.get_rollout("test-agent").spec_hash == first.to_hash
    approve_spec(store, change.id, actor=BOB, clock=clock)
    state = store.get_rollout("test-agent")
    assert (state.spec_hash, state.stage_since) == (change.to_hash, clock.now())


def test_the_stability_window_needs_an_override_with_a_reason(store, clock) -> None:
    apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock)
    for _ in range(2):
        change_stage(
            store, "test-agent", RolloutAction.ADVANCE, actor=ALICE, reason="go", clock=clock
        )
    assert store.get_rollout("test-agent").stage is Stage.LIVE
    clock.advance(timedelta(days=29).total_seconds())
    with pytest.raises(ControlError, match="stability window"):
        apply_spec(store, spec(WIDER), actor=ALICE, clock=clock)
    with pytest.raises(ConfigError, match="needs --reason"):
        apply_spec(store, spec(WIDER), actor=ALICE, clock=clock, override_stability=True)
    forced = apply_spec(
        store, spec(WIDER), actor=ALICE, clock=clock, override_stability=True, reason="regulator"
    )
    assert (forced.status, forced.override_stability) == (ChangeStatus.PENDING, True)
    assert (
        apply_spec(store, spec(NARROWER), actor=ALICE, clock=clock).status is ChangeStatus.APPLIED
    )
    assert store.find_spec_changes(forced.id)[0].status is ChangeStatus.SUPERSEDED
    clock.advance(timedelta(days=2).total_seconds())  # window over
    assert apply_spec(store, spec(TOOLS), actor=ALICE, clock=clock).status is ChangeStatus.PENDING
