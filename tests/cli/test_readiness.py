"""``warden readiness``: each item with its fix."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "alice"


@pytest.fixture
def gov(rollout_gov):
    return rollout_gov


def test_readiness_lists_each_item_with_its_fix(cli, gov) -> None:
    result = cli("readiness", "test-agent")
    assert result.exit_code == 1
    assert "fail kill_switch_drill" in result.output
    assert "fix: run a drill: warden drill kill-switch test-agent" in result.output
    body = json.loads(cli("readiness", "test-agent", "--json").stdout)
    assert body["passed"] is False
    by_name = {i["name"]: i for i in body["items"]}
    assert by_name["owners"]["status"] == "pass"
    assert by_name["eval_set"]["status"] == "fail"
    assert cli("readiness", "nobody").exit_code == 1
