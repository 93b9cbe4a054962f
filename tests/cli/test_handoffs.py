"""``warden handoffs list|claim|resolve|reassign``: the human queue and its lifecycle."""

from __future__ import annotations

import json


def test_handoffs_list_shows_the_human_queue(cli, make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure which queue")
    gov.flush()
    rows = json.loads(cli("handoffs", "list", "--json", "--queue", "tier1-humans").stdout)
    assert [(h["run_id"], h["trigger"]) for h in rows] == [(run.id, "manual")]


def test_claim_resolve_and_reassign(cli, make_governor, spec_factory, store) -> None:
    gov = make_governor(spec_factory({"route_ticket": {"access": "write"}}))
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure which queue")
    gov.flush()
    [packet] = store.list_handoffs()
    claimed = cli("handoffs", "claim", packet.id, "--json")
    assert json.loads(claimed.stdout)["claimed_by"] == "oncall-dana"
    moved = cli("handoffs", "reassign", packet.id, "--queue", "billing", "--reason", "money")
    assert moved.exit_code == 0 and "reassigned to billing" in moved.output
    assert cli("handoffs", "list", "--queue", "billing", "--status", "open").exit_code == 0
    done = cli(
        "handoffs",
        "resolve",
        packet.id,
        "--action",
        '{"tool": "route_ticket"}',
        "--note",
        "routed by hand",
    )
    assert done.exit_code == 0 and "resolved by oncall-dana" in done.output
    stored = store.get_handoff(packet.id)
    assert (stored.status, stored.note, stored.resolution) == (
        "resolved",
        "routed by hand",
        {"tool": "route_ticket"},
    )
    assert store.get_outcome(run.id).actor == "oncall-dana"
    again = cli("handoffs", "claim", packet.id)
    assert again.exit_code == 1 and "resolved" in again.output
    assert cli("handoffs", "claim", "hof_nope").exit_code != 0
