"""``warden runs list|show``: the decision trail in plain language."""

from __future__ import annotations

import json


def test_runs_list_and_show_explain_the_decision_trail(cli, make_governor, spec_factory) -> None:
    gov = make_governor(
        spec_factory({"lookup": {"access": "read"}, "refund": {"access": "blocked"}})
    )

    @gov.tool
    def lookup(customer_id: str) -> str:
        return "gold"

    with gov.run(input="refund my card fee") as run:
        run.call("lookup", customer_id="c1")
        run.call("refund", amount=5)
    gov.flush()
    listed = cli("runs", "list", "--json", "--status", "blocked")
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [run.id]
    shown = cli("runs", "show", run.id)
    assert shown.exit_code == 0
    text = shown.output
    assert 'Input: "refund my card fee"' in text
    assert 'Step 1: lookup(customer_id="c1") ran and succeeded.' in text
    assert "Step 2: refund(amount=5) was stopped. Policy denied (rule access)" in text
    assert "Ended blocked" in text
    detail = json.loads(cli("runs", "show", "--json", run.id).output)
    assert detail["tool_calls"][1]["decision"]["rule"] == "access"
    missing = cli("runs", "show", "run_nope")
    assert missing.exit_code == 1
