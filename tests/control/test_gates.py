"""Gates on the database under test, driven by a fake clock: no promotion on too few
samples or days, promotion when everything holds, and a spec change restarts the gate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import make_incident
from warden.control.gates import evaluate_gate, gate_check, readiness_facts
from warden.control.rollout import change_stage
from warden.core.readiness import ReadinessFacts
from warden.core.rollout import RolloutAction, Stage
from warden.errors import GateNotPassed

TOOLS: dict[str, Any] = {
    "route_ticket": {
        "access": "write",
        "idempotent": True,
        "arguments": {"queue": {"max_length": 40}},
    },
}
PLAN: dict[str, Any] = {
    "shadow": {"min_runs": 20, "min_agreement": 0.8, "min_days": 7},
    "canary": {"traffic": 0.5, "min_runs": 10, "clean_days": 3},
}
SLOS = [{"name": "resolves", "metric": "success_rate", "objective": 0.9}]


def ready_facts(clock) -> ReadinessFacts:
    return ReadinessFacts(
        runbook_found=True,
        test_page_delivered_at=clock.now(),
        test_paged_channels=["webhook http://127.0.0.1:9/page"],
        last_drill_at=clock.now(),
        eval_cases=50,
        eval_passed=True,
    )


def make(make_governor, spec_factory, tools=TOOLS):
    gov = make_governor(
        spec_factory(
            tools,
            rollout=PLAN,
            slos=SLOS,
            budgets={"per_run": {"max_steps": 10}},
            kill_criteria=[{"metric": "error_rate", "threshold": 0.5}],
            oncall={"channels": [{"type": "webhook", "target": "http://127.0.0.1:9/page"}]},
        )
    )

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    return gov


def shadow_traffic(gov, n: int, agree: int, prefix: str = "t") -> None:
    for i in range(n):
        key = f"{prefix}-{i}"
        with gov.run(
            input=key, routing_key=key, mode="shadow", dangerously_override_rollout=True
        ) as run:
            run.call("route_ticket", ticket_id=key, queue="card_arrival")
            run.resolve()
        queue = "card_arrival" if i < agree else "other"
        gov.record_outcome(key, {"tool": "route_ticket", "arguments": {"queue": queue}})


def advance(store, clock, facts) -> Any:
    return change_stage(
        store,
        "test-agent",
        RolloutAction.ADVANCE,
        actor="alice",
        reason="gate passed",
        clock=clock,
        check=gate_check(store, clock, facts=facts),
    )


def test_no_promotion_on_too_few_samples_then_promotion_when_all_holds(
    make_governor, spec_factory, store, clock
) -> None:
    gov = make(make_governor, spec_factory)
    facts = ready_facts(clock)
    shadow_traffic(gov, 19, 19)  # one short of min_runs, all agreeing
    clock.advance(timedelta(days=30).total_seconds())
    with pytest.raises(GateNotPassed, match="holds") as held:
        advance(store, clock, facts)
    assert held.value.status == "inconclusive"
    assert "19 of 20" in held.value.message
    assert store.get_rollout("test-agent").stage is Stage.SHADOW
    shadow_traffic(gov, 1, 1, prefix="u")
    state = advance(store, clock, facts)
    assert state.stage is Stage.CANARY


def test_too_few_days_holds_and_low_agreement_fails(
    make_governor, spec_factory, store, clock
) -> None:
    gov = make(make_governor, spec_factory)
    facts = ready_facts(clock)
    shadow_traffic(gov, 20, 20)
    clock.advance(timedelta(days=6, hours=23).total_seconds())
    with pytest.raises(GateNotPassed, match="holds"):
        advance(store, clock, facts)
    shadow_traffic(gov, 20, 0, prefix="bad")  # 20 of 40 agree: 50 %
    clock.advance(3600)
    with pytest.raises(GateNotPassed, match="fails") as failed:
        advance(store, clock, facts)
    assert failed.value.status == "fail"


def test_readiness_from_the_store_fails_without_drill_page_and_evals(
    make_governor, spec_factory, store, clock, tmp_path
) -> None:
    gov = make(make_governor, spec_factory)
    shadow_traffic(gov, 20, 20)
    clock.advance(timedelta(days=8).total_seconds())
    facts = readiness_facts(store, gov.spec, root=tmp_path)
    assert facts.runbook_found is False and facts.last_drill_at is None
    with pytest.raises(GateNotPassed, match="readiness") as failed:
        advance(store, clock, None)
    assert failed.value.status == "fail"


def test_a_spec_change_restarts_the_gate(make_governor, spec_factory, store, clock) -> None:
    gov = make(make_governor, spec_factory)
    facts = ready_facts(clock)
    shadow_traffic(gov, 20, 20)
    clock.advance(timedelta(days=8).total_seconds())
    state = store.get_rollout("test-agent")
    assert evaluate_gate(store, gov.spec, state, clock, facts=facts).passed
    changed = {"route_ticket": {**TOOLS["route_ticket"], "max_attempts": 2}}
    v2 = make(make_governor, spec_factory, changed)
    state = store.get_rollout("test-agent")
    assert state.spec_hash == v2.spec_hash
    result = evaluate_gate(store, v2.spec, state, clock, facts=facts)
    assert result.status.value == "inconclusive"  # 0 runs of v2, 0 days
    with pytest.raises(GateNotPassed):
        advance(store, clock, facts)


def test_canary_needs_runs_clean_days_and_slos(make_governor, spec_factory, store, clock) -> None:
    gov = make(make_governor, spec_factory)
    facts = ready_facts(clock)
    shadow_traffic(gov, 20, 20)
    clock.advance(timedelta(days=8).total_seconds())
    advance(store, clock, facts)
    for i in range(12):
        with gov.run(
            input=i, routing_key=f"c-{i}", mode="live", dangerously_override_rollout=True
        ) as run:
            run.call("route_ticket", ticket_id=f"c-{i}", queue="q")
            run.resolve()
    gov.flush()
    with pytest.raises(GateNotPassed, match="clean_days"):
        advance(store, clock, facts)
    clock.advance(timedelta(days=2).total_seconds())
    store.open_incident(
        make_incident(
            criterion="error_rate > 0.5",
            threshold=0.5,
            value=0.6,
            samples=50,
            action="pause",
            mode="enforce",
            applied="paused",
            spec_hash=gov.spec_hash,
            dedup_key="k",
            opened_at=clock.now(),
            summary="tripped",
        )
    )
    clock.advance(timedelta(days=2).total_seconds())
    with pytest.raises(GateNotPassed, match="trip"):
        advance(store, clock, facts)  # 4 days in canary but only 2 since the trip
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    assert advance(store, clock, facts).stage is Stage.LIVE
