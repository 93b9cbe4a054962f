"""``warden page test``: every on-call channel, and the readiness item it satisfies."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "dana"


@pytest.fixture
def gov(oncall_gov):
    return oncall_gov


def test_page_test_reaches_every_channel_and_counts_for_readiness(cli, store, gov, sink) -> None:
    result = cli("page", "test", "test-agent")
    assert result.exit_code == 0, result.output
    assert "webhook" in result.output and "delivered" in result.output
    assert sink.bodies("/owner")[0]["test"] is True
    assert "Test page" in sink.bodies("/slack")[0]["text"]
    items = {
        i["name"]: i["status"]
        for i in json.loads(cli("readiness", "test-agent", "--json").stdout)["items"]
    }
    assert items["oncall"] == "pass"
    sink.status["/owner"] = [500]
    assert cli("page", "test", "test-agent").exit_code == 1
