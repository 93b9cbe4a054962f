"""Claiming, resolving and reassigning a handoff; the resolution is the run's outcome and
counts in the version's agreement."""

from __future__ import annotations

import pytest

from warden.control.handoffs import claim, reassign, resolve
from warden.core.clock import FakeClock
from warden.errors import ConfigError, NotFoundError, RunStateError
from warden.store import SqlStore


def handed_over(gov, key: str) -> str:
    """A shadow run that proposes routing to ``card_arrival``, then hands over."""
    with gov.run(input=key, routing_key=key) as run:
        run.call("lookup_customer", customer_id="c-1")
        run.call("route_ticket", ticket_id=key, queue="card_arrival")
        run.escalate("not sure of the queue")
    gov.flush()
    [packet] = [h for h in gov.store.list_handoffs() if h.run_id == run.id]
    return packet.id


def test_a_resolution_counts_as_an_outcome(gov, store: SqlStore, clock: FakeClock) -> None:
    agreeing, other = handed_over(gov, "t-1"), handed_over(gov, "t-2")
    assert claim(store, agreeing, actor="sam", clock=clock).status == "claimed"
    done, outcome = resolve(
        store,
        agreeing,
        {"tool": "route_ticket", "arguments": {"queue": "card_arrival"}},
        actor="sam",
        clock=clock,
        note="right queue",
    )
    assert done.status == "resolved" and outcome.agreed and outcome.actor == "sam"
    _, outcome = resolve(
        store,
        other,
        {"tool": "route_ticket", "arguments": {"queue": "lost"}},
        actor="kim",
        clock=clock,
    )
    assert not outcome.agreed
    [rate] = store.agreement("test-agent")
    assert (rate.agreed, rate.compared) == (1, 2)
    assert store.get_outcome(done.run_id).human[0].tool == "route_ticket"  # type: ignore[union-attr]


def test_a_bad_action_leaves_the_packet_open(gov, store: SqlStore, clock: FakeClock) -> None:
    packet = handed_over(gov, "t-1")
    with pytest.raises(ConfigError, match="not an action"):
        resolve(store, packet, {"arguments": {}}, actor="sam", clock=clock)
    assert store.get_handoff(packet).status == "open"  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        resolve(store, "hof_nope", None, actor="sam", clock=clock)


def test_reassign_needs_a_queue_and_a_reason(gov, store: SqlStore, clock: FakeClock) -> None:
    packet = handed_over(gov, "t-1")
    with pytest.raises(ConfigError):
        reassign(store, packet, "billing", actor="sam", clock=clock, reason=" ")
    moved = reassign(store, packet, "billing", actor="sam", clock=clock, reason="billing")
    assert (moved.queue, moved.status) == ("billing", "open")
    resolve(store, packet, None, actor="kim", clock=clock)
    with pytest.raises(RunStateError):
        claim(store, packet, actor="sam", clock=clock)
