"""Recording what a person did and comparing it with the shadow proposal, per version."""

from __future__ import annotations

import pytest

from tests.control.conftest import TICKET_TOOLS
from warden.core.runs import RunMode
from warden.errors import NotFoundError


def shadow_run(gov, key: str, queue: str) -> str:
    with gov.run(input=key, routing_key=key) as run:
        run.call("lookup_customer", customer_id="c-1")
        run.call("route_ticket", ticket_id=key, queue=queue)
        run.resolve()
    assert run.mode is RunMode.SHADOW
    return run.id


def test_outcomes_by_routing_key_and_run_id_give_the_agreement_rate(gov, store) -> None:
    ids = [shadow_run(gov, f"t-{i}", "card_arrival") for i in range(10)]
    for i in range(8):  # the person routed 8 the same way, 2 elsewhere
        out = gov.record_outcome(
            f"t-{i}", {"tool": "route_ticket", "arguments": {"queue": "card_arrival"}}, actor="sam"
        )
        assert out.agreed
    for run_id in ids[8:]:
        out = gov.record_outcome(run_id, {"tool": "route_ticket", "arguments": {"queue": "lost"}})
        assert not out.agreed
    [rate] = store.agreement("test-agent")
    assert (rate.agreed, rate.compared, rate.spec_hash) == (8, 10, gov.spec_hash)
    assert rate.rate == pytest.approx(0.8)
    assert rate.low < 0.8 < rate.high
    stored = store.get_outcome(ids[0])
    assert stored.proposed[0].arguments == {"ticket_id": "t-0", "queue": "card_arrival"}
    assert stored.actor == "sam"


def test_a_later_outcome_for_the_same_run_replaces_the_earlier(gov, store) -> None:
    shadow_run(gov, "t-1", "card_arrival")
    gov.record_outcome("t-1", "escalate_to_human")
    gov.record_outcome("t-1", {"tool": "route_ticket"})
    [rate] = store.agreement("test-agent")
    assert (rate.agreed, rate.compared) == (1, 1)


def test_agreement_is_per_version(make_governor, spec_factory, store, gov) -> None:
    shadow_run(gov, "t-1", "card_arrival")
    gov.record_outcome("t-1", "route_ticket")
    v2 = make_governor(
        spec_factory(
            {**TICKET_TOOLS, "lookup_customer": {"access": "read", "max_attempts": 1}}, rollout={}
        )
    )

    @v2.tool
    def lookup_customer(customer_id: str) -> str:
        return "gold"

    @v2.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    shadow_run(v2, "t-2", "card_arrival")
    v2.record_outcome("t-2", None)  # the person did nothing: disagrees
    rates = {r.spec_hash: (r.agreed, r.compared) for r in store.agreement("test-agent")}
    assert rates == {gov.spec_hash: (1, 1), v2.spec_hash: (0, 1)}


def test_an_unknown_key_is_not_found(gov) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        gov.record_outcome("nope", "route_ticket")
