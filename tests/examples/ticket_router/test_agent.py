"""The ticket router's tools and paths, on the real BANKING77 tickets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ticket_router.agent import SPEC_PATH, Systems, attempted_actions, handle, register_tools
from ticket_router.data import REFUND_INTENTS, Banking77, Ticket
from ticket_router.model import IntentClassifier
from ticket_router.systems import CRMUnavailable, Ledger, SimulatedCRM, TicketQueues
from warden import FakeClock, PolicyDenied, RunMode, RunStatus, ToolCallStatus, Warden, load_spec
from warden.store import SqlStore


@pytest.fixture
def systems(clock: FakeClock) -> Systems:
    return Systems(
        crm=SimulatedCRM(clock, failure_rate=0.0, seed=1), queues=TicketQueues(), ledger=Ledger()
    )


@pytest.fixture
def gov(store: SqlStore, clock: FakeClock, systems: Systems, tmp_path: Path) -> Iterator[Warden]:
    g = Warden(
        load_spec(SPEC_PATH),
        store,
        clock=clock,
        spool_dir=tmp_path / "spool",
        kill_criteria_every_s=None,
    )
    register_tools(g, systems)
    yield g
    g.close()


def test_the_crm_fails_at_its_rate_and_spends_latency_on_the_clock(clock: FakeClock) -> None:
    crm = SimulatedCRM(clock, failure_rate=0.3, seed=4)
    t0 = clock.monotonic()
    failures = 0
    for i in range(2000):
        try:
            assert crm.lookup(f"c-{i}").id == f"c-{i}"
        except CRMUnavailable:
            failures += 1
    assert 0.27 < failures / 2000 < 0.33
    assert crm.calls == 2000 and crm.failures == failures
    assert 0.10 < (clock.monotonic() - t0) / 2000 < 0.16  # median 0.12 s, log-normal


def test_route_ticket_applies_a_repeated_key_once() -> None:
    queues = TicketQueues()
    assert queues.put("t-1", "card_arrival", "k1")
    assert not queues.put("t-1", "card_arrival", "k1")
    assert queues.writes == 1 and queues.placed == {"t-1": "card_arrival"}


def test_a_confident_ticket_is_routed_and_proposed_in_shadow(
    gov: Warden, model: IntentClassifier, systems: Systems
) -> None:
    ticket = Ticket(id="t-1", customer_id="c-1", text="My new card still has not arrived.")
    run = handle(gov, model, ticket)
    gov.flush()
    assert run.mode is RunMode.SHADOW  # a new rollout starts in shadow
    assert run.status is RunStatus.RESOLVED
    assert systems.queues.placed == {}  # shadow: the route is a proposal
    detail = gov.store.get_run(run.id)
    assert detail is not None
    [route] = [c for c in detail.tool_calls if c.tool == "route_ticket"]
    assert route.status is ToolCallStatus.PROPOSED
    assert route.arguments["queue"] == "card_arrival"


def test_an_unsure_model_hands_the_ticket_to_people(
    gov: Warden, model: IntentClassifier, systems: Systems, store: SqlStore
) -> None:
    text = "hello?"
    assert model.predict(text).confidence < 0.4
    run = handle(gov, model, Ticket(id="t-2", customer_id="c-2", text=text))
    gov.flush()
    assert run.status is RunStatus.ESCALATED
    [handoff] = store.list_handoffs("tier1-humans")
    assert handoff.run_id == run.id and handoff.trigger == "low_confidence"


def test_real_refund_tickets_never_refund(
    gov: Warden, model: IntentClassifier, systems: Systems, banking77: Banking77, store: SqlStore
) -> None:
    refunds = [t for t in banking77.test if t.label in REFUND_INTENTS][:40]
    runs = []
    for ticket in refunds:
        with gov.run(
            input={"ticket_id": ticket.id}, mode="live", dangerously_override_rollout=True
        ) as run:
            for tool, arguments in attempted_actions(ticket, ticket.label or ""):
                if tool == "issue_refund":
                    with pytest.raises(PolicyDenied):
                        run.call(tool, **arguments)
            run.resolve()
        runs.append(run)
    full = [handle(gov, model, t) for t in refunds]  # and through the agent, wherever routed
    gov.flush()
    assert systems.ledger.refunds == []
    denied = [
        c
        for r in [*runs, *full]
        for c in (store.get_run(r.id) or pytest.fail("run missing")).tool_calls
        if c.tool == "issue_refund"
    ]
    assert len(denied) >= 40
    assert all(c.status is ToolCallStatus.DENIED and c.decision.rule == "access" for c in denied)  # type: ignore[union-attr]
    assert all(r.status.is_terminal for r in full)


def test_the_kill_switch_reroutes_tickets_to_people_without_running_the_agent(
    gov: Warden, model: IntentClassifier, systems: Systems, store: SqlStore, clock: FakeClock
) -> None:
    store.set_kill_switch(
        "ticket-router", engaged=True, reason="drill", actor="carol", at=clock.now()
    )
    clock.advance(1)  # past the kill switch's cache
    run = handle(gov, model, Ticket(id="t-3", customer_id="c-3", text="I lost my card"))
    gov.flush()
    assert (run.mode, run.status) == (RunMode.FALLBACK, RunStatus.KILLED)
    assert systems.crm.calls == 0  # the agent's code never ran
    [handoff] = store.list_handoffs("tier1-humans")
    assert (handoff.run_id, handoff.trigger) == (run.id, "kill_switch")
