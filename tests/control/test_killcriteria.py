"""Kill criteria on the database under test: a trip records an incident, applies the
action, pages the owner; advisory records only; too few samples never trips."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.pages_server import page_sink
from warden.control.killcriteria import CriteriaWatch
from warden.control.paging import escalate_unacknowledged
from warden.core.incidents import IncidentStatus
from warden.core.rollout import Stage
from warden.core.runs import RunMode, RunStatus
from warden.errors import KillSwitchEngaged
from warden.integrations.pagers import HttpPager
from warden.testing import FlakyLedger

TOOLS: dict[str, Any] = {
    "lookup_customer": {"access": "read", "max_attempts": 1},
    "route_ticket": {
        "access": "write",
        "idempotent": True,
        "arguments": {"queue": {"max_length": 20}},
    },
}


def criterion(**over: Any) -> dict[str, Any]:
    return {
        "metric": "tool_failure_rate",
        "threshold": 0.2,
        "window_s": 3600,
        "min_samples": 20,
        "action": "pause",
        "mode": "enforce",
        **over,
    }


@pytest.fixture
def sink():
    with page_sink() as s:
        yield s


def make(
    make_governor, spec_factory, sink, *criteria: dict[str, Any], crm_failure_rate: float = 0.5
):
    oncall = {
        "channels": [
            {"type": "webhook", "target": f"{sink.url}/owner"},
            {"type": "pagerduty", "target": "R0UTINGKEY", "url": f"{sink.url}/pd"},
        ],
        "backup_channels": [{"type": "slack", "target": f"{sink.url}/backup"}],
        "ack_timeout_s": 600,
    }
    gov = make_governor(
        spec_factory(TOOLS, kill_criteria=list(criteria), oncall=oncall, rollout={}),
        pager=HttpPager(sleep=lambda s: None),
        kill_criteria_every_s=None,
        kill_switch_ttl_s=0.0,
    )
    crm = FlakyLedger(failure_rate=crm_failure_rate, seed=7, fail_after_apply=0.0)

    @gov.tool
    def lookup_customer(customer_id: str) -> str:
        return crm.write({"lookup": customer_id}, None)

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    return gov


def traffic(gov, n: int) -> None:
    for i in range(n):
        with gov.run(
            input=i, routing_key=f"c-{i}", mode="live", dangerously_override_rollout=True
        ) as run:
            run.call("lookup_customer", customer_id=f"c-{i}")
            run.call("route_ticket", ticket_id=f"t-{i}", queue="card_arrival")
            run.resolve()


def test_injected_crm_failures_trip_the_criterion_pause_the_agent_and_page(
    make_governor, spec_factory, store, clock, sink
) -> None:
    gov = make(make_governor, spec_factory, sink, criterion())
    traffic(gov, 30)
    [incident] = gov.check_kill_criteria()
    assert incident.metric == "tool_failure_rate"
    assert incident.value > 0.2 and incident.samples >= 20
    assert incident.applied == "paused: the kill switch is engaged"
    assert incident.dedup_key == "test-agent:tool_failure_rate>0.2/3600s:1.0.0"
    switch = store.get_kill_switch("test-agent")
    assert switch.engaged and switch.actor == "warden"
    assert incident.id in (switch.reason or "")
    # The agent is paused: new runs fall back and end killed.
    run = gov.run(routing_key="c-1")
    assert run.mode is RunMode.FALLBACK
    [owner] = sink.bodies("/owner")
    [pd] = sink.bodies("/pd")
    assert owner["incident_id"] == incident.id
    assert (pd["routing_key"], pd["event_action"], pd["dedup_key"]) == (
        "R0UTINGKEY",
        "trigger",
        incident.dedup_key,
    )
    assert pd["links"][0]["href"] == "docs/runbook.md"
    assert [p.delivered for p in store.list_pages(incident_id=incident.id)] == [True, True]
    actions = [e.action for e in store.list_audit(agent="test-agent")]
    assert "incident.opened" in actions and "kill_switch.engaged" in actions
    # The same trip again opens nothing new while the incident is unresolved.
    assert gov.check_kill_criteria() == []
    assert len(store.list_incidents("test-agent")) == 1


def test_advisory_records_only(make_governor, spec_factory, store, sink) -> None:
    gov = make(make_governor, spec_factory, sink, criterion(mode="advisory"))
    traffic(gov, 30)
    [incident] = gov.check_kill_criteria()
    assert incident.applied.startswith("advisory: would have paused")
    assert not store.get_kill_switch("test-agent").engaged
    assert sink.bodies("/owner") == []


def test_too_few_samples_never_trips(make_governor, spec_factory, store, sink) -> None:
    gov = make(make_governor, spec_factory, sink, criterion(min_samples=100), crm_failure_rate=1.0)
    traffic(gov, 30)
    assert gov.check_kill_criteria() == []


def test_runs_outside_the_window_do_not_count(
    make_governor, spec_factory, store, clock, sink
) -> None:
    gov = make(make_governor, spec_factory, sink, criterion(window_s=600))
    traffic(gov, 30)
    clock.advance(601)
    assert gov.check_kill_criteria() == []


def test_rollback_action(make_governor, spec_factory, store, sink) -> None:
    gov = make(make_governor, spec_factory, sink, criterion(action="rollback"))
    traffic(gov, 30)
    [incident] = gov.check_kill_criteria()
    assert store.get_rollout("test-agent").stage is Stage.ROLLED_BACK
    assert not store.get_kill_switch("test-agent").engaged
    assert store.list_rollout_transitions("test-agent")[-1].actor == "warden"
    assert incident.applied.startswith("rolled back")


def test_unacknowledged_incidents_page_the_backup_owner_once(
    make_governor, spec_factory, store, clock, sink
) -> None:
    gov = make(
        make_governor,
        spec_factory,
        sink,
        criterion(),
        criterion(metric="escalation_rate", threshold=0.01, action="page"),
    )
    traffic(gov, 30)
    first, second = gov.check_kill_criteria()
    store.update_incident(
        second.id, actor="dana", at=clock.now(), status=IncidentStatus.ACKNOWLEDGED
    )
    pager = HttpPager(sleep=lambda s: None)
    assert escalate_unacknowledged(store, gov.spec, pager, clock) == []  # not yet due
    clock.advance(601)
    [escalated] = escalate_unacknowledged(store, gov.spec, pager, clock)
    assert escalated.id == first.id and escalated.escalated_at == clock.now()
    [backup] = sink.bodies("/backup")
    assert "backup owner" in backup["text"]
    assert escalate_unacknowledged(store, gov.spec, pager, clock) == []  # once
    assert [e.action for e in store.list_audit(agent="test-agent")].count("incident.escalated") == 1


def test_the_governor_checks_after_runs_end(make_governor, spec_factory, store, sink) -> None:
    gov = make(make_governor, spec_factory, sink, criterion())
    gov.criteria_watch = CriteriaWatch(gov.check_kill_criteria, min_interval_s=0.01)
    stopped_after = None
    deadline = time.monotonic() + 10
    i = 0
    while stopped_after is None and time.monotonic() < deadline:
        try:  # each run's end pokes the watch; no explicit check here
            traffic(gov, 1)
        except KillSwitchEngaged:
            stopped_after = i
        i += 1
    gov.criteria_watch.stop()
    assert stopped_after is not None and stopped_after >= 10  # 20 tool calls (min_samples) first
    assert len(store.list_incidents("test-agent")) == 1
    run = gov.run(routing_key="x")
    with pytest.raises(KillSwitchEngaged), run:
        pytest.fail("paused")
    assert run.status is RunStatus.KILLED
