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


def test_readiness_names_the_channels_no_test_page_reached(cli, store, gov, sink) -> None:
    sink.status["/slack"] = [404]
    assert cli("page", "test", "test-agent").exit_code == 1
    oncall = next(
        i
        for i in json.loads(cli("readiness", "test-agent", "--json").stdout)["items"]
        if i["name"] == "oncall"
    )
    assert oncall["status"] == "fail"  # the webhook got it, Slack did not
    assert f"no test page delivered to slack {sink.url}/slack" in oncall["detail"]
    assert "owner" not in oncall["detail"]
    sink.status["/slack"] = [200]
    assert cli("page", "test", "test-agent").exit_code == 0
    items = json.loads(cli("readiness", "test-agent", "--json").stdout)["items"]
    assert {i["name"]: i["status"] for i in items}["oncall"] == "pass"
