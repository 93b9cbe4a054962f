"""``warden slo status AGENT``: objective, value, budget, burn rates and firing alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import make_spec
from warden.core.events import RunRecorded
from warden.core.runs import RunRecord, RunStatus, SpecVersion


def burning(store) -> None:
    """``test-agent`` with a 95 % success SLO, resolving 62 % of 100 runs a minute ago."""
    now = datetime.now(UTC)
    spec = make_spec(slos=[{"name": "resolved", "metric": "success_rate", "objective": 0.95}])
    store.save_spec_version(SpecVersion.of(spec, now))
    ended = now - timedelta(seconds=60)
    store.apply(
        [
            RunRecorded(
                run=RunRecord(
                    id=f"run_{i}",
                    agent="test-agent",
                    spec_hash="h",
                    status=RunStatus.RESOLVED if i < 62 else RunStatus.FAILED,
                    started_at=ended - timedelta(seconds=1),
                    ended_at=ended,
                )
            )
            for i in range(100)
        ]
    )


def test_slo_status_prints_budget_burn_and_firing_alerts(cli, store) -> None:
    burning(store)
    result = cli("slo", "status", "test-agent")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "resolved: success_rate >= 0.95 over 30 days: 62.0% (100 runs), "
        "budget remaining -660.0%, burn 7.6x"
    )
    assert lines[1].startswith("  ok burn 7.6x over 3600 s (100 runs)")
    assert lines[2].startswith("  FIRING burn 7.6x over 21600 s")
    assert lines[3].startswith("  FIRING") and "ticket above 1x" in lines[3]


def test_slo_status_json(cli, store) -> None:
    burning(store)
    result = cli("slo", "status", "test-agent", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    [s] = doc["slos"]
    assert doc["agent"] == "test-agent"
    assert s["slo"]["objective"] == 0.95 and s["value"] == 0.62
    assert round(s["burn_rate"], 6) == 7.6
    assert [a["alert"]["burn_rate"] for a in s["firing"]] == [6, 1]
    assert len(s["alerts"]) == 3


def test_slo_status_of_an_agent_without_slos_or_spec(cli, store) -> None:
    store.save_spec_version(SpecVersion.of(make_spec(), datetime.now(UTC)))
    result = cli("slo", "status", "test-agent")
    assert result.exit_code == 0 and "no SLOs" in result.stdout
    missing = cli("slo", "status", "nobody")
    assert missing.exit_code == 1 and "no spec of 'nobody'" in missing.output
