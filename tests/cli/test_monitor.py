"""``warden monitor``."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def actor() -> str:
    return "dana"


@pytest.fixture
def gov(oncall_gov):
    return oncall_gov


def test_monitor_once(cli, store, gov) -> None:
    result = cli("monitor", "--once", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
