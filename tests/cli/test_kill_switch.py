"""``warden kill`` and ``warden unkill``: recorded, idempotent, released by two people; a
kill of an agent the store has never seen (a typo) is refused unless ``--force``."""

from __future__ import annotations

import json


def test_kill_and_unkill_are_recorded_and_idempotent(cli, store, seen) -> None:
    seen("ticket-router")
    result = cli("kill", "ticket-router", "--reason", "refund spike")
    assert result.exit_code == 0
    assert "ENGAGED" in result.output
    first = store.get_kill_switch("ticket-router")
    assert first.engaged
    assert first.actor == "oncall-dana"
    again = cli("kill", "ticket-router", "--reason", "second press", "--json")
    assert json.loads(again.stdout)["reason"] == "refund spike"  # idempotent: unchanged
    # Turning it back on needs a second person.
    asked = json.loads(cli("unkill", "ticket-router", "--reason", "fixed", "--json").stdout)
    assert asked["state"]["engaged"] is True
    assert asked["pending"]["requested_by"] == "oncall-dana"
    again = json.loads(cli("unkill", "ticket-router", "--reason", "really", "--json").stdout)
    assert again["state"]["engaged"] is True  # the same person cannot approve their own request
    assert store.get_kill_switch("ticket-router").engaged


def test_unkill_needs_a_second_person(cli, store, seen, monkeypatch, os_user) -> None:
    seen("ticket-router")
    cli("kill", "ticket-router", "--reason", "refund spike")
    cli("unkill", "ticket-router", "--reason", "fixed")
    monkeypatch.setenv("WARDEN_ACTOR", "lead-sam")
    os_user("sam")
    result = cli("unkill", "ticket-router", "--reason", "checked the fix", "--json")
    released = json.loads(result.stdout)
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
    off = json.loads(cli("unkill", "ticket-router", "--reason", "again", "--json").stdout)
    assert "already off" in off["message"]


def test_warden_actor_alone_cannot_make_one_os_user_two_people(
    cli, store, seen, monkeypatch
) -> None:
    """Regression (issue Authority): ``WARDEN_ACTOR=a warden unkill X; WARDEN_ACTOR=b
    warden unkill X`` released a two-person kill switch; the label is not the principal."""
    seen("ticket-router")
    cli("kill", "ticket-router", "--reason", "refund spike")
    monkeypatch.setenv("WARDEN_ACTOR", "a")
    cli("unkill", "ticket-router", "--reason", "fixed")
    monkeypatch.setenv("WARDEN_ACTOR", "b")
    result = cli("unkill", "ticket-router", "--reason", "fixed", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["pending"]["requested_principal"] == "os:dana"
    assert store.get_kill_switch("ticket-router").engaged
    assert [e.action for e in store.list_audit(agent="ticket-router")] == [
        "kill_switch.engaged",
        "kill_switch.release_requested",
        "kill_switch.release_requested",
    ]


def test_unkill_of_an_agent_the_store_never_saw_exits_2(cli, seen) -> None:
    seen("order-helper")
    result = cli("unkill", "order-helpr", "--reason", "fixed")
    assert result.exit_code == 2
    assert "order-helper" in result.output
    assert "no kill switch to release" in result.output


def test_kill_of_an_agent_the_store_never_saw_is_refused_naming_close_matches(
    cli, store, seen
) -> None:
    for agent in ("order-helper", "order-router", "billing-bot"):
        seen(agent)
    result = cli("kill", "order-helpr", "--reason", "refund spike")
    assert result.exit_code == 2
    assert "ENGAGED" not in result.output
    assert "never seen an agent named 'order-helpr'" in result.stderr
    assert "did you mean order-helper" in result.stderr.lower()
    assert "billing-bot" not in result.stderr
    assert "--force" in result.stderr
    assert not store.get_kill_switch("order-helpr").engaged
    assert store.list_audit() == []  # nothing happened


def test_kill_force_engages_an_agent_never_seen_and_then_it_is_known(cli, store) -> None:
    forced = cli("kill", "new-agent", "--reason", "before its first run", "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["engaged"] is True
    assert "never seen" in forced.stderr  # still said, as a warning
    assert store.get_kill_switch("new-agent").engaged
    again = cli("kill", "new-agent", "--reason", "second press")  # its switch row: seen
    assert again.exit_code == 0, again.output
    nothing_close = cli("kill", "zzz", "--reason", "r")
    assert nothing_close.exit_code == 2
    assert "known agents: new-agent" in nothing_close.stderr


def test_kill_knows_an_agent_by_its_spec_version_alone(cli, store, make_governor, spec_factory):
    make_governor(spec_factory({}))  # a process opened with its spec: no run yet
    result = cli("kill", "test-agent", "--reason", "bad deploy")
    assert result.exit_code == 0, result.output
    assert "ENGAGED" in result.stdout
