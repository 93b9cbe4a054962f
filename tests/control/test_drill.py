"""The kill-switch drill: real flip, test keys reroute, restore, recorded with its time."""

from __future__ import annotations

import pytest

from warden.control.drill import kill_switch_drill
from warden.control.gates import readiness_facts
from warden.core.clock import SystemClock
from warden.errors import ControlError

TOOLS = {"route": {"access": "write", "arguments": {"queue": {"max_length": 9}}}}


def test_a_drill_flips_measures_restores_and_is_recorded(store, spec_factory) -> None:
    spec = spec_factory(TOOLS, rollout={})
    drill = kill_switch_drill(store, spec, actor="dana", clock=SystemClock(), keys=3)
    assert drill.passed, drill.detail
    assert drill.propagation_s is not None and 0 <= drill.propagation_s < 1.0
    assert drill.rerouted == 3
    assert drill.routing_keys == ["warden-drill-0", "warden-drill-1", "warden-drill-2"]
    assert not store.get_kill_switch("test-agent").engaged  # restored
    assert store.list_drills("test-agent") == [drill]
    actions = [(e.action, e.actor) for e in store.list_audit(agent="test-agent")]
    assert actions == [
        ("kill_switch.engaged", "dana"),
        ("kill_switch.released", "dana"),
        ("drill.kill_switch", "dana"),
    ]
    assert readiness_facts(store, spec).last_drill_at == drill.ended_at


def test_a_drill_refuses_while_the_switch_is_on(store, spec_factory) -> None:
    spec = spec_factory(TOOLS)
    store.set_kill_switch(
        "test-agent", engaged=True, reason="incident", actor="x", at=SystemClock().now()
    )
    with pytest.raises(ControlError, match="already on"):
        kill_switch_drill(store, spec, actor="dana", clock=SystemClock())
    assert store.get_kill_switch("test-agent").engaged


def test_a_drill_leaves_no_runs_or_handoffs(store, spec_factory) -> None:
    from warden.core.runs import RunFilter

    kill_switch_drill(store, spec_factory(TOOLS, rollout={}), actor="dana", clock=SystemClock())
    assert store.list_runs(RunFilter()) == []
    assert store.list_handoffs() == []
