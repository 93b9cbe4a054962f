"""The fleet page on the database under test: every agent with its stage, today's
numbers and a red / amber / green health whose rules a reviewer can check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import make_incident, make_spec
from warden.control.fleet import agent_summary, daily_series, fleet, latest_spec
from warden.core.decisions import RuleMode
from warden.core.events import RunRecorded
from warden.core.rollout import Stage
from warden.core.runs import RunRecord, RunStatus, SpecVersion
from warden.core.spec import AgentSpec


def _spec(name: str, **fields: Any) -> AgentSpec:
    doc = make_spec({"route": {"access": "write"}}, **fields).model_dump(mode="json", by_alias=True)
    doc["metadata"]["name"] = name
    return AgentSpec.model_validate(doc)


def _store_spec(store, clock, spec: AgentSpec) -> SpecVersion:
    version = store.save_spec_version(SpecVersion.of(spec, clock.now()))
    store.enroll_version(version, has_plan=spec.spec.rollout is not None, at=clock.now())
    return version


def _runs(store, clock, agent: str, statuses: list[RunStatus], *, ago_s: float = 0) -> None:
    ended = clock.now() - timedelta(seconds=ago_s)
    store.apply(
        [
            RunRecorded(
                run=RunRecord(
                    id=f"run_{agent}_{ago_s:g}_{i}",
                    agent=agent,
                    spec_hash="h",
                    status=status,
                    started_at=ended - timedelta(seconds=1),
                    ended_at=ended,
                    cost_usd=0.01,
                )
            )
            for i, status in enumerate(statuses)
        ]
    )


def test_an_agent_never_stored_has_no_summary(store, clock) -> None:
    assert agent_summary(store, "nobody", clock) is None
    assert latest_spec(store, "nobody") is None
    assert fleet(store, clock) == []


def test_a_new_agent_without_a_plan_runs_live_and_is_amber_until_ready(store, clock) -> None:
    spec = _spec("router")
    version = _store_spec(store, clock, spec)
    summary = agent_summary(store, "router", clock)
    assert summary is not None
    assert (summary.owner, summary.backup_owner) == ("alice@example.com", "bob@example.com")
    assert (summary.spec_version, summary.spec_hash) == ("1.0.0", version.content_hash)
    assert (summary.stage, summary.traffic) == ("live", None)
    assert (summary.runs_today, summary.finished_today, summary.error_rate) == (0, 0, None)
    assert not summary.readiness_passed and summary.readiness_failing
    assert summary.health == "amber"
    assert summary.health_reasons == [
        f"readiness: {len(summary.readiness_failing)} item(s) failing"
    ]


def test_the_kill_switch_is_red_and_paused(store, clock) -> None:
    _store_spec(store, clock, _spec("router", rollout={}))
    store.set_kill_switch(
        "router", engaged=True, reason="bad refunds", actor="oncall", at=clock.now()
    )
    summary = agent_summary(store, "router", clock)
    assert summary is not None
    assert (summary.stage, summary.health) == (Stage.PAUSED.value, "red")
    assert summary.health_reasons == ["kill switch on: bad refunds"]


def test_an_open_incident_is_red(store, clock) -> None:
    version = _store_spec(store, clock, _spec("router"))
    store.open_incident(
        make_incident(
            agent="router",
            value=0.5,
            samples=30,
            mode=RuleMode.ENFORCE,
            applied="paged the owner",
            spec_hash=version.content_hash,
            dedup_key="router:error_rate:1.0.0",
            opened_at=clock.now(),
            summary="error rate 50%",
        )
    )
    summary = agent_summary(store, "router", clock)
    assert summary is not None
    assert summary.health == "red"
    assert summary.health_reasons == ["1 open incident(s)"]
    assert [i.id for i in summary.open_incidents] == ["inc_1"]


def test_todays_rates_count_only_with_enough_finished_runs(store, clock) -> None:
    _store_spec(store, clock, _spec("router"))
    clock.advance(12 * 3600)  # midday: runs earlier today count
    _runs(store, clock, "router", [RunStatus.FAILED] * 2 + [RunStatus.RESOLVED] * 17, ago_s=60)
    few = agent_summary(store, "router", clock)
    assert few is not None
    assert few.finished_today == 19
    assert few.error_rate == 2 / 19
    assert not any("error rate" in r for r in few.health_reasons)  # too few to judge
    _runs(store, clock, "router", [RunStatus.ESCALATED] * 6, ago_s=30)
    enough = agent_summary(store, "router", clock)
    assert enough is not None
    assert enough.finished_today == 25
    assert enough.health == "amber"  # readiness only: 2/25 errors < 10 %, 6/25 escalated < 30 %
    assert [r for r in enough.health_reasons if not r.startswith("readiness")] == []
    _runs(store, clock, "router", [RunStatus.FAILED] * 5, ago_s=10)
    worse = agent_summary(store, "router", clock)
    assert worse is not None
    assert [r for r in worse.health_reasons if not r.startswith("readiness")] == [
        "error rate 23% today"  # 7 of 30
    ]


def test_the_fleet_lists_red_first_then_by_name(store, clock) -> None:
    for name in ("zeta", "alpha", "beta"):
        _store_spec(store, clock, _spec(name))
    store.set_kill_switch("zeta", engaged=True, reason="x", actor="oncall", at=clock.now())
    assert [(s.agent, s.health) for s in fleet(store, clock)] == [
        ("zeta", "red"),
        ("alpha", "amber"),
        ("beta", "amber"),
    ]


def test_the_daily_series_is_one_point_per_utc_day_oldest_first(store, clock) -> None:
    _store_spec(store, clock, _spec("router"))
    clock.advance(10 * 86_400 + 3600)  # 01:00 on day 10
    _runs(store, clock, "router", [RunStatus.RESOLVED, RunStatus.FAILED], ago_s=2 * 86_400)
    _runs(store, clock, "router", [RunStatus.ESCALATED], ago_s=0)
    points = daily_series(store, "router", clock, days=3)
    assert [p.day for p in points] == ["2026-01-09", "2026-01-10", "2026-01-11"]
    assert [p.runs for p in points] == [2, 0, 1]
    assert (points[0].resolution_rate, points[0].error_rate) == (0.5, 0.5)
    assert points[1].resolution_rate is None
    assert points[2].escalation_rate == 1.0
    assert points[0].cost_usd == 0.02
