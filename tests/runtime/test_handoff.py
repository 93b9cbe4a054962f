"""Handoff packets: what a person needs to take a run over."""

from __future__ import annotations

from datetime import UTC, datetime

from warden.runtime.handoff import build_handoff

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _handoff(trail: list[str], **over: object):
    fields: dict[str, object] = {
        "run_id": "run_1",
        "agent": "ticket-router",
        "input": {"ticket": "t-1", "text": "my card has not arrived"},
        "trail": trail,
        "last_error": "lookup_customer: crm timed out",
        "queue": "tier1-humans",
        "trigger": "tool_failed",
        "reason": "lookup_customer failed after 3 attempts",
        "at": AT,
        **over,
    }
    return build_handoff(**fields)


def test_a_handoff_carries_the_input_every_step_the_last_error_and_why() -> None:
    trail = ["1. lookup_customer(customer_id: c-42) -> failed after 3 attempts"]
    handoff = _handoff(trail)
    assert handoff.id.startswith("hof_")
    assert len(handoff.id) == len("hof_") + 16
    assert (handoff.run_id, handoff.agent, handoff.queue) == (
        "run_1",
        "ticket-router",
        "tier1-humans",
    )
    assert (handoff.trigger, handoff.reason) == (
        "tool_failed",
        "lookup_customer failed after 3 attempts",
    )
    assert handoff.input == {"ticket": "t-1", "text": "my card has not arrived"}
    assert handoff.steps == trail
    assert handoff.last_error == "lookup_customer: crm timed out"
    assert handoff.created_at == AT


def test_the_steps_are_a_copy_of_the_trail_at_handoff_time() -> None:
    trail = ["1. lookup_customer(...) -> succeeded"]
    handoff = _handoff(trail)
    trail.append("2. later step")
    assert handoff.steps == ["1. lookup_customer(...) -> succeeded"]


def test_each_handoff_has_its_own_id_and_may_have_no_error() -> None:
    first, second = _handoff([], last_error=None), _handoff([], last_error=None)
    assert first.id != second.id
    assert first.last_error is None
    assert first.steps == []
