"""``warden drill kill-switch``, and the readiness item it satisfies."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "dana"


@pytest.fixture
def gov(oncall_gov):
    return oncall_gov


def test_drill_cli_passes_and_readiness_sees_it(cli, store, gov) -> None:
    result = cli("drill", "kill-switch", "test-agent", "--keys", "2", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["passed"] is True and body["propagation_s"] < 1
    items = {
        i["name"]: i["status"]
        for i in json.loads(cli("readiness", "test-agent", "--json").stdout)["items"]
    }
    assert items["kill_switch_drill"] == "pass"
    cli("kill", "test-agent", "--reason", "real incident")
    assert cli("drill", "kill-switch", "test-agent").exit_code == 1
