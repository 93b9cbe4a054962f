"""SLO burn-rate alerting on the database under test: a live agent resolving 62 % of its
runs against a 95 % SLO pages within the hour (the 6x-over-6-h-and-30-min rule; 14.4x
needs more than 72 % bad), once; a healthy agent does not; the monitor checks agents
without a rollout too."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import make_spec
from warden.control.monitor import monitor_once
from warden.control.slo import check_slo_burn, slo_status
from warden.core.events import RunRecorded
from warden.core.incidents import PageDelivery
from warden.core.paging import Page
from warden.core.runs import RunMode, RunRecord, RunStatus, SpecVersion
from warden.core.spec import AgentSpec, OnCallChannel

_ids = itertools.count()


class FakePager:
    """Delivers every page; records them."""

    def __init__(self) -> None:
        self.sent: list[Page] = []

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        self.sent.append(page)
        return [
            PageDelivery(
                id=f"pg_{next(_ids)}",
                agent=page.agent,
                incident_id=page.incident_id,
                channel=c.type,
                target=c.target,
                recipient=page.recipient,
                delivered=True,
                at=page.at,
            )
            for c in channels
        ]


ONCALL: dict[str, Any] = {"channels": [{"type": "webhook", "target": "https://pager.test/x"}]}


def stored_spec(store, clock, **slo: Any) -> tuple[AgentSpec, str]:
    spec = make_spec(
        slos=[{"name": "resolved", "metric": "success_rate", "objective": 0.95, **slo}],
        oncall=ONCALL,
    )
    version = store.save_spec_version(SpecVersion.of(spec, clock.now()))
    return spec, version.content_hash


def record(store, clock, resolved: int, failed: int, *, ago_s: float, mode=RunMode.LIVE) -> None:
    ended = clock.now() - timedelta(seconds=ago_s)
    statuses = [RunStatus.RESOLVED] * resolved + [RunStatus.FAILED] * failed
    store.apply(
        [
            RunRecorded(
                run=RunRecord(
                    id=f"run_{next(_ids)}",
                    agent="test-agent",
                    spec_hash="h",
                    mode=mode,
                    status=status,
                    started_at=ended - timedelta(seconds=2),
                    ended_at=ended,
                    latency_s=2.0,
                )
            )
            for status in statuses
        ]
    )


def last_hour_at(store, clock, resolved: int, failed: int) -> None:
    """Three batches over the last hour, the newest a minute old."""
    for ago in (60, 1200, 2400):
        record(store, clock, resolved, failed, ago_s=ago)


def test_62_percent_against_95_pages_within_the_hour_once(store, clock) -> None:
    spec, spec_hash = stored_spec(store, clock)
    last_hour_at(store, clock, resolved=31, failed=19)  # 62 %
    pager = FakePager()
    opened = check_slo_burn(store, spec, spec_hash, clock, pager)
    assert sorted(i.action for i in opened) == ["page", "ticket"]
    page = next(i for i in opened if i.action == "page")
    assert page.threshold == 6 and page.value == pytest.approx(7.6)
    assert page.samples == 150 and page.window_s == 6 * 3600
    assert page.dedup_key == "test-agent:slo:resolved:21600s/1800s>6x"
    assert "SLO resolved" in page.summary and "paged the owner" in page.summary
    assert [p.incident_id for p in pager.sent] == [page.id]  # the ticket pages nobody
    assert store.get_incident(page.id) is not None
    # Still burning on the next pass: the same incidents stay open, nobody is paged again.
    clock.advance(60)
    record(store, clock, 31, 19, ago_s=0)
    assert check_slo_burn(store, spec, spec_hash, clock, pager) == []
    assert len(pager.sent) == 1


def test_a_fast_burn_pages_on_the_one_hour_rule(store, clock) -> None:
    spec, spec_hash = stored_spec(store, clock)
    last_hour_at(store, clock, resolved=4, failed=16)  # 20 %: 16x
    pager = FakePager()
    opened = check_slo_burn(store, spec, spec_hash, clock, pager)
    assert sorted((i.threshold, i.action) for i in opened) == [
        (1, "ticket"),
        (6, "page"),
        (14.4, "page"),
    ]
    assert len(pager.sent) == 2


def test_a_healthy_agent_does_not_page(store, clock) -> None:
    spec, spec_hash = stored_spec(store, clock)
    last_hour_at(store, clock, resolved=49, failed=1)  # 98 %
    pager = FakePager()
    assert check_slo_burn(store, spec, spec_hash, clock, pager) == []
    [status] = slo_status(store, spec, clock)
    assert status.value == pytest.approx(0.98)
    assert status.burn_rate == pytest.approx(0.4)
    assert status.budget_remaining == pytest.approx(0.6)
    assert status.firing == [] and pager.sent == []


def test_too_few_runs_do_not_page(store, clock) -> None:
    spec, spec_hash = stored_spec(store, clock)
    record(store, clock, 1, 1, ago_s=60)
    assert check_slo_burn(store, spec, spec_hash, clock, FakePager()) == []


def test_shadow_and_fallback_runs_do_not_count(store, clock) -> None:
    spec, spec_hash = stored_spec(store, clock)
    for ago in (60, 1200, 2400):
        record(store, clock, 0, 50, ago_s=ago, mode=RunMode.SHADOW)
    [status] = slo_status(store, spec, clock)
    assert status.events == 0 and status.value is None
    assert check_slo_burn(store, spec, spec_hash, clock, FakePager()) == []


def test_the_spec_can_change_the_alerts(store, clock) -> None:
    spec, spec_hash = stored_spec(
        store,
        clock,
        alerts=[
            {"long_window_s": 3600, "short_window_s": 300, "burn_rate": 2, "severity": "ticket"}
        ],
        min_runs=5,
    )
    last_hour_at(store, clock, resolved=44, failed=6)  # 88 %: 2.4x
    pager = FakePager()
    [incident] = check_slo_burn(store, spec, spec_hash, clock, pager)
    assert incident.action == "ticket" and pager.sent == []


def test_the_monitor_checks_agents_without_a_rollout(store, clock) -> None:
    stored_spec(store, clock)
    last_hour_at(store, clock, resolved=31, failed=19)
    pager = FakePager()
    assert store.get_rollout("test-agent") is None
    assert monitor_once(store, clock, pager, agents=["someone-else"]) == []
    events = monitor_once(store, clock, pager)
    assert [(e.agent, e.kind) for e in events] == [("test-agent", "incident")] * 2
    assert len(pager.sent) == 1
    assert monitor_once(store, clock, pager) == []
