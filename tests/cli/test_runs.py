"""``warden runs list|show``: the decision trail in plain language."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from warden.core.events import HandoffCreated, RunRecorded
from warden.core.runs import ApprovalRequest, Handoff, RunRecord, RunStatus


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
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [run.id]
    shown = cli("runs", "show", run.id)
    assert shown.exit_code == 0
    text = shown.output
    assert 'Input: "refund my card fee"' in text
    assert 'Step 1: lookup(customer_id="c1") ran and succeeded.' in text
    assert "Step 2: refund(amount=5) was stopped. Policy denied (rule access)" in text
    assert "Ended blocked" in text
    detail = json.loads(cli("runs", "show", "--json", run.id).stdout)
    assert detail["tool_calls"][1]["decision"]["rule"] == "access"
    missing = cli("runs", "show", "run_nope")
    assert missing.exit_code == 1


def _record(store, *ids: str) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [
        RunRecord(id=i, agent="ticket-router", spec_hash="h", started_at=at, ended_at=at)
        for i in ids
    ]
    store.apply(
        [RunRecorded(run=r.model_copy(update={"status": RunStatus.RESOLVED})) for r in runs]
    )


def test_runs_show_takes_a_unique_prefix_of_the_run_id(cli, store) -> None:
    _record(store, "run_abc111", "run_abc222", "run_def333")
    shown = cli("runs", "show", "run_d")
    assert shown.exit_code == 0, shown.output
    assert "run_def333" in shown.stdout
    assert json.loads(cli("runs", "show", "run_de", "--json").stdout)["run"]["id"] == "run_def333"
    ambiguous = cli("runs", "show", "run_abc")
    assert ambiguous.exit_code == 2
    assert "run_abc111" in ambiguous.stderr and "run_abc222" in ambiguous.stderr
    assert "run_def333" not in ambiguous.stderr
    none = cli("runs", "show", "run_x")
    assert none.exit_code == 1
    assert "no run" in none.stderr


RUN_ID = "run_0123456789abcdef01234567"  # as long as the ids the runtime makes


@pytest.mark.parametrize("columns", ["60", "30", "200"])
def test_lists_print_whole_ids_on_a_narrow_terminal(cli, store, monkeypatch, columns) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    _record(store, RUN_ID)
    handoff = Handoff(
        id="hof_0123456789abcdef01234567",
        run_id=RUN_ID,
        agent="ticket-router",
        queue="tier1-humans",
        trigger="manual",
        reason="not sure which queue",
        created_at=at,
    )
    store.apply([HandoffCreated(handoff=handoff)])
    store.create_approval(
        ApprovalRequest(
            id="apr_0123456789abcdef01234567",
            run_id=RUN_ID,
            agent="ticket-router",
            seq=1,
            tool="issue_refund",
            arguments={"amount": 100},
            args_hash="h",
            rule="conditional_approval",
            reason="needs approval",
            created_at=at,
            expires_at=at + timedelta(days=36500),
        )
    )
    for args, ids in [
        (("runs", "list"), [RUN_ID]),
        (("handoffs", "list"), [handoff.id, RUN_ID]),
        (("approvals", "list"), ["apr_0123456789abcdef01234567", RUN_ID]),
    ]:
        result = cli(*args)
        assert result.exit_code == 0, result.output
        for i in ids:
            assert i in result.stdout, (args, result.stdout)
