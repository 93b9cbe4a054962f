"""The readiness checklist: every item passes or fails with its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import make_spec
from warden.core.readiness import CheckStatus, ReadinessFacts, review
from warden.core.spec import AgentSpec

NOW = datetime(2026, 3, 1, tzinfo=UTC)
GOOD_FACTS = ReadinessFacts(
    runbook_found=True,
    test_page_delivered_at=NOW - timedelta(days=2),
    test_paged_channels=["webhook http://127.0.0.1:9/x"],
    last_drill_at=NOW - timedelta(days=3),
    eval_cases=60,
    eval_passed=True,
)


def good_spec(**over: Any) -> AgentSpec:
    fields: dict[str, Any] = {
        "budgets": {"per_run": {"max_steps": 8}},
        "kill_criteria": [{"metric": "error_rate", "threshold": 0.1}],
        "oncall": {"channels": [{"type": "webhook", "target": "http://127.0.0.1:9/x"}]},
    }
    fields.update(over)
    tools = {"route": {"access": "write", "arguments": {"queue": {"enum": ["a"]}}}}
    return make_spec(tools, **fields)


def statuses(spec: AgentSpec, facts: ReadinessFacts) -> dict[str, CheckStatus]:
    return {i.name: i.status for i in review(spec, facts, NOW).items}


def test_a_prepared_agent_passes_every_item() -> None:
    report = review(good_spec(), GOOD_FACTS, NOW)
    assert report.passed, report.failing
    assert [i.name for i in report.items] == [
        "owners",
        "scope",
        "write_tools_constrained",
        "budgets",
        "kill_criteria",
        "runbook",
        "oncall",
        "kill_switch_drill",
        "eval_set",
        "no_rollout_overrides",
    ]


def test_missing_data_fails_with_the_fix() -> None:
    report = review(good_spec(), ReadinessFacts(), NOW)
    failing = {i.name: i.fix for i in report.failing}
    assert set(failing) == {"oncall", "kill_switch_drill", "eval_set"}
    assert "warden drill kill-switch test-agent" in failing["kill_switch_drill"]
    assert "warden page test test-agent" in failing["oncall"]
    assert "50 cases" in failing["eval_set"]


def test_each_spec_item_fails_on_its_own() -> None:
    loose = make_spec(
        {"route": {"access": "write"}, "look": {"access": "read"}},
        budgets={},
        kill_criteria=[],
        scope=" ".join(["word"] * 201),
    )
    s = statuses(loose, GOOD_FACTS)
    assert s["write_tools_constrained"] is CheckStatus.FAIL
    assert s["budgets"] is CheckStatus.FAIL
    assert s["kill_criteria"] is CheckStatus.FAIL
    assert s["scope"] is CheckStatus.FAIL
    assert s["oncall"] is CheckStatus.FAIL  # no channels
    approval = make_spec({"route": {"access": "write", "approval_when": "amount > 1"}})
    assert statuses(approval, GOOD_FACTS)["write_tools_constrained"] is CheckStatus.PASS


def test_owner_and_backup_must_differ() -> None:
    spec = good_spec()
    same = spec.model_copy(
        update={"metadata": spec.metadata.model_copy(update={"backup_owner": "Alice@example.com"})}
    )
    assert statuses(same, GOOD_FACTS)["owners"] is CheckStatus.FAIL


def test_an_old_drill_or_a_failed_eval_fails() -> None:
    old = GOOD_FACTS.model_copy(update={"last_drill_at": NOW - timedelta(days=31)})
    assert statuses(good_spec(), old)["kill_switch_drill"] is CheckStatus.FAIL
    few = GOOD_FACTS.model_copy(update={"eval_cases": 49})
    assert statuses(good_spec(), few)["eval_set"] is CheckStatus.FAIL
    failed = GOOD_FACTS.model_copy(update={"eval_passed": False})
    assert statuses(good_spec(), failed)["eval_set"] is CheckStatus.FAIL
    missing = GOOD_FACTS.model_copy(update={"runbook_found": False})
    assert statuses(good_spec(), missing)["runbook"] is CheckStatus.FAIL


def test_oncall_needs_a_delivered_test_page_on_every_channel_and_names_the_missing() -> None:
    spec = good_spec(
        oncall={
            "channels": [
                {"type": "webhook", "target": "http://127.0.0.1:9/x"},
                {"type": "pagerduty", "target": "R0UTINGKEY"},
            ],
            "backup_channels": [{"type": "email", "target": "bob@example.com"}],
        }
    )
    item = review(spec, GOOD_FACTS, NOW).item("oncall")  # only the webhook got one
    assert item.status is CheckStatus.FAIL
    assert "pagerduty routing key R0UT…" in item.detail
    assert "email bob@example.com" in item.detail
    assert "webhook" not in item.detail.split("delivered to")[1]
    assert "warden page test test-agent" in item.fix
    every = GOOD_FACTS.model_copy(
        update={
            "test_paged_channels": [
                "webhook http://127.0.0.1:9/x",
                "pagerduty routing key R0UT…",
                "email bob@example.com",
            ]
        }
    )
    passed = review(spec, every, NOW).item("oncall")
    assert passed.status is CheckStatus.PASS
    assert passed.detail.startswith("3 on-call channel(s); a test page delivered to each")
