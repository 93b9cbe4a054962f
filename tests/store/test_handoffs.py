"""Handoff lifecycle on the database under test: ``open -> claimed -> resolved`` and
reassigning, each a compare-and-set audited in the same transaction; the runtime's write
path never reopens a packet a person changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from warden.core.clock import FakeClock
from warden.core.events import HandoffCreated
from warden.core.runs import Handoff, HandoffStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import SqlStore


def _packet(clock: FakeClock, id: str = "hof_1") -> Handoff:
    return Handoff(
        id=id,
        run_id="r1",
        agent="a",
        queue="tier1",
        trigger="low_confidence",
        reason="not sure",
        input={"ticket": "t-1"},
        steps=["looked the customer up"],
        created_at=clock.now(),
    )


def test_claim_then_resolve_is_audited(store: SqlStore, clock: FakeClock) -> None:
    store.apply([HandoffCreated(handoff=_packet(clock))])
    claimed = store.claim_handoff("hof_1", actor="sam", at=clock.now())
    assert (claimed.status, claimed.claimed_by) == (HandoffStatus.CLAIMED, "sam")
    assert store.claim_handoff("hof_1", actor="sam", at=clock.now()) == claimed  # no-op
    clock.advance(300)
    action = {"tool": "route_ticket", "arguments": {"queue": "billing"}}
    done = store.resolve_handoff(
        "hof_1", actor="sam", at=clock.now(), resolution=action, note="billing question"
    )
    stored = store.get_handoff("hof_1")
    assert stored == done
    assert stored is not None and stored.status == "resolved"
    assert (stored.resolved_by, stored.resolution, stored.note) == (
        "sam",
        action,
        "billing question",
    )
    assert stored.resolved_at == clock.now() and stored.claimed_at == clock.now() - timedelta(
        minutes=5
    )
    claim, resolve = store.list_audit(agent="a")
    assert (claim.action, claim.subject, claim.actor) == ("handoff.claim", "hof_1", "sam")
    assert json.loads(claim.before)["status"] == "open"
    assert (resolve.action, resolve.reason) == ("handoff.resolve", "billing question")
    assert json.loads(resolve.after)["resolution"] == action


def test_conflicting_moves_raise_and_leave_no_entry(store: SqlStore, clock: FakeClock) -> None:
    store.apply([HandoffCreated(handoff=_packet(clock))])
    store.claim_handoff("hof_1", actor="sam", at=clock.now())
    with pytest.raises(RunStateError, match="claimed by sam"):
        store.claim_handoff("hof_1", actor="kim", at=clock.now())
    with pytest.raises(RunStateError, match="claimed by sam"):
        store.resolve_handoff("hof_1", actor="kim", at=clock.now())
    store.resolve_handoff("hof_1", actor="sam", at=clock.now())
    with pytest.raises(RunStateError, match="resolved"):
        store.resolve_handoff("hof_1", actor="sam", at=clock.now())
    with pytest.raises(RunStateError, match="resolved"):
        store.claim_handoff("hof_1", actor="kim", at=clock.now())
    with pytest.raises(RunStateError, match="resolved"):
        store.reassign_handoff("hof_1", queue="q", actor="kim", at=clock.now(), reason="x")
    assert [e.action for e in store.list_audit(agent="a")] == ["handoff.claim", "handoff.resolve"]
    with pytest.raises(NotFoundError):
        store.claim_handoff("hof_nope", actor="sam", at=clock.now())
    assert store.get_handoff("hof_nope") is None


def test_resolving_an_open_packet_claims_it_on_the_way(store: SqlStore, clock: FakeClock) -> None:
    store.apply([HandoffCreated(handoff=_packet(clock))])
    done = store.resolve_handoff("hof_1", actor="kim", at=clock.now(), resolution=None)
    assert (done.status, done.claimed_by, done.resolved_by) == ("resolved", "kim", "kim")


def test_reassign_reopens_in_another_queue_with_who_and_why(
    store: SqlStore, clock: FakeClock
) -> None:
    store.apply([HandoffCreated(handoff=_packet(clock))])
    store.claim_handoff("hof_1", actor="sam", at=clock.now())
    moved = store.reassign_handoff(
        "hof_1", queue="billing", actor="sam", at=clock.now(), reason="a billing question"
    )
    assert (moved.status, moved.queue, moved.claimed_by, moved.note) == (
        "open",
        "billing",
        None,
        "a billing question",
    )
    assert [h.id for h in store.list_handoffs("billing", status="open")] == ["hof_1"]
    assert store.list_handoffs("tier1") == []
    entry = store.list_audit(agent="a")[-1]
    assert (entry.action, entry.actor, entry.reason) == (
        "handoff.reassign",
        "sam",
        "a billing question",
    )
    assert json.loads(entry.before)["queue"] == "tier1"
    assert store.claim_handoff("hof_1", actor="kim", at=clock.now()).claimed_by == "kim"


def test_the_write_path_never_reopens_a_changed_packet(store: SqlStore, clock: FakeClock) -> None:
    packet = _packet(clock)
    store.apply([HandoffCreated(handoff=packet)])
    store.resolve_handoff("hof_1", actor="sam", at=clock.now(), resolution="refund")
    store.apply([HandoffCreated(handoff=packet)])  # a replayed (spooled) batch
    again = store.get_handoff("hof_1")
    assert again is not None and (again.status, again.resolution) == ("resolved", "refund")
    assert store.count_handoffs(status="open") == 0
