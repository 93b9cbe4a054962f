"""``warden kill`` and ``warden unkill``: recorded, idempotent, released by two people."""

from __future__ import annotations

import json


def test_kill_and_unkill_are_recorded_and_idempotent(cli, store) -> None:
    result = cli("kill", "ticket-router", "--reason", "refund spike")
    assert result.exit_code == 0
    assert "ENGAGED" in result.output
    first = store.get_kill_switch("ticket-router")
    assert first.engaged
    assert first.actor == "oncall-dana"
    again = cli("kill", "ticket-router", "--reason", "second press", "--json")
    assert json.loads(again.output)["reason"] == "refund spike"  # idempotent: unchanged
    # Turning it back on needs a second person.
    asked = json.loads(cli("unkill", "ticket-router", "--reason", "fixed", "--json").output)
    assert asked["state"]["engaged"] is True
    assert asked["pending"]["requested_by"] == "oncall-dana"
    again = json.loads(cli("unkill", "ticket-router", "--reason", "really", "--json").output)
    assert again["state"]["engaged"] is True  # the same person cannot approve their own request
    assert store.get_kill_switch("ticket-router").engaged


def test_unkill_needs_a_second_person(cli, store, monkeypatch) -> None:
    cli("kill", "ticket-router", "--reason", "refund spike")
    cli("unkill", "ticket-router", "--reason", "fixed")
    monkeypatch.setenv("WARDEN_ACTOR", "lead-sam")
    result = cli("unkill", "ticket-router", "--reason", "checked the fix", "--json")
    released = json.loads(result.output)
    assert released["state"]["engaged"] is False
    assert released["pending"] is None
    state = store.get_kill_switch("ticket-router")
    assert state.actor == "lead-sam"
    assert "asked by oncall-dana" in state.reason
    assert store.get_release_request("ticket-router") is None
    actions = [e.action for e in store.list_audit(agent="ticket-router")]
    assert actions == [
        "kill_switch.engaged",
        "kill_switch.release_requested",
        "kill_switch.released",
    ]
    off = json.loads(cli("unkill", "ticket-router", "--reason", "again", "--json").output)
    assert "already off" in off["message"]
