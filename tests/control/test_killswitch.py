"""Turning an agent back on takes two people: the first asks, a different one approves."""

from __future__ import annotations

import pytest

from warden.control.killswitch import unkill
from warden.errors import RunStateError

AGENT = "test-agent"


@pytest.fixture
def killed(store, clock) -> None:
    store.set_kill_switch(AGENT, engaged=True, reason="bad refunds", actor="oncall", at=clock.now())


def test_unkill_when_off_changes_nothing(store, clock) -> None:
    result = unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    assert not result.state.engaged
    assert result.pending is None
    assert result.message == f"the kill switch of {AGENT} is already off"
    assert store.get_release_request(AGENT) is None


def test_the_first_person_only_asks(store, clock, killed) -> None:
    result = unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    assert result.state.engaged
    assert result.pending is not None
    assert (result.pending.requested_by, result.pending.reason) == ("alice", "fixed")
    assert "another person must approve" in result.message
    assert store.get_kill_switch(AGENT).engaged


def test_asking_again_yourself_does_not_release(store, clock, killed) -> None:
    unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    clock.advance(60)
    again = unkill(store, AGENT, actor="alice", reason="really fixed", clock=clock)
    assert again.pending is not None and again.pending.requested_by == "alice"
    assert store.get_kill_switch(AGENT).engaged


def test_a_second_person_releases(store, clock, killed) -> None:
    unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    result = unkill(store, AGENT, actor="bob", reason="checked the fix", clock=clock)
    assert not result.state.engaged
    assert result.pending is None
    assert result.message == f"kill switch of {AGENT} released by bob, asked by alice"
    assert not store.get_kill_switch(AGENT).engaged
    assert store.get_release_request(AGENT) is None
    off = unkill(store, AGENT, actor="carol", reason="again", clock=clock)
    assert off.message.endswith("is already off")


def test_a_new_kill_needs_a_new_pair(store, clock, killed) -> None:
    unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    unkill(store, AGENT, actor="bob", reason="ok", clock=clock)
    store.set_kill_switch(AGENT, engaged=True, reason="again", actor="oncall", at=clock.now())
    first = unkill(store, AGENT, actor="bob", reason="fixed again", clock=clock)
    assert first.pending is not None and first.state.engaged


def test_the_loser_of_a_race_is_told(store, clock, killed, monkeypatch) -> None:
    unkill(store, AGENT, actor="alice", reason="fixed", clock=clock)
    pending = store.get_release_request(AGENT)
    unkill(store, AGENT, actor="bob", reason="ok", clock=clock)  # released meanwhile
    store.set_kill_switch(AGENT, engaged=True, reason="again", actor="oncall", at=clock.now())
    monkeypatch.setattr(store, "get_release_request", lambda agent: pending)  # a stale read
    with pytest.raises(RunStateError):
        unkill(store, AGENT, actor="carol", reason="ok", clock=clock)
    assert store.get_kill_switch(AGENT).engaged


def test_two_labels_of_one_principal_are_one_person(store, clock, killed) -> None:
    unkill(store, AGENT, actor="alice", reason="fixed", clock=clock, principal="os:dana")
    again = unkill(store, AGENT, actor="bob", reason="fixed", clock=clock, principal="os:dana")
    assert again.pending is not None
    assert store.get_kill_switch(AGENT).engaged
    with pytest.raises(RunStateError, match="another person must approve"):
        store.approve_release(AGENT, actor="carol", reason="x", at=clock.now(), principal="os:dana")


def test_one_label_of_two_principals_is_two_people(store, clock, killed) -> None:
    unkill(store, AGENT, actor="oncall", reason="fixed", clock=clock, principal="os:dana")
    done = unkill(store, AGENT, actor="oncall", reason="ok", clock=clock, principal="os:sam")
    assert not done.state.engaged
    assert "[os:dana]" in done.state.reason and "[os:sam]" in done.state.reason
