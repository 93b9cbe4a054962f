"""Paging: an incident goes to the owner's channels, an unacknowledged one to the backup
owner's (once), a test page to every channel; acknowledging or resolving tells the
PagerDuty channels (same dedup key); every delivery is recorded. The pager is a fake that
records what it was asked to send."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import make_incident, make_spec
from warden.control.paging import (
    escalate_unacknowledged,
    page_incident,
    send_test_page,
    set_incident_status,
    unresolved_incident,
)
from warden.core.decisions import RuleMode
from warden.core.incidents import Incident, IncidentStatus, PageDelivery
from warden.core.paging import Page, channel_label, delivery_label
from warden.core.runs import SpecVersion
from warden.core.spec import OnCallChannel
from warden.errors import RunStateError

ONCALL = {
    "channels": [
        {"type": "webhook", "target": "https://hooks.example.com/owner"},
        {"type": "pagerduty", "target": "R0UTINGKEY"},
    ],
    "backup_channels": [{"type": "slack", "target": "https://hooks.slack.com/backup"}],
    "ack_timeout_s": 600,
}
SPEC = make_spec({}, oncall=ONCALL)
_ids = itertools.count()


class FakePager:
    """Delivers to every channel but ``failing``; records each page and its channels."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.sent: list[tuple[Page, list[str]]] = []
        self.failing = failing or set()
        self.targets: list[str] = []

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        self.sent.append((page, [c.type for c in channels]))
        self.targets = [c.target for c in channels]
        return [
            PageDelivery(
                id=f"pg_{next(_ids)}",
                agent=page.agent,
                incident_id=page.incident_id,
                channel=c.type,
                target=c.target,
                recipient=page.recipient,
                event_action=page.event_action,
                delivered=c.type not in self.failing,
                error="HTTP 500" if c.type in self.failing else None,
                test=page.test,
                at=page.at,
            )
            for c in channels
        ]


def _incident(store, clock, *, action: str = "pause", criterion: str = "error_rate") -> Incident:
    incident, _ = store.open_incident(
        make_incident(
            id=f"inc_{next(_ids)}",
            agent=SPEC.name,
            criterion=f"{criterion} > 0.1 over 3600 s",
            metric=criterion,
            value=0.4,
            samples=40,
            action=action,
            mode=RuleMode.ENFORCE,
            applied="paused the agent",
            spec_hash="a" * 64,
            spec_version="1.0.0",
            dedup_key=f"{SPEC.name}:{criterion}:1.0.0",
            opened_at=clock.now(),
            summary=f"{criterion} 40% > 10%: paused the agent",
        )
    )
    return incident


def test_an_incident_pages_the_owners_channels_and_records_each_delivery(store, clock) -> None:
    incident = _incident(store, clock)
    pager = FakePager(failing={"pagerduty"})
    deliveries = page_incident(store, SPEC, incident, pager, clock)
    ((page, channels),) = pager.sent
    assert channels == ["webhook", "pagerduty"]
    assert (page.agent, page.incident_id, page.dedup_key) == (
        SPEC.name,
        incident.id,
        incident.dedup_key,
    )
    assert (page.summary, page.severity, page.recipient) == (incident.summary, "critical", "owner")
    assert (page.component, page.group, page.runbook) == (
        "1.0.0",
        incident.criterion,
        "docs/runbook.md",
    )
    assert page.details["owner"] == "alice@example.com"
    assert page.details["backup_owner"] == "bob@example.com"
    assert page.at == clock.now()
    assert [d.delivered for d in deliveries] == [True, False]  # recorded, delivered or not
    stored = store.list_pages(incident_id=incident.id)
    assert sorted(d.id for d in stored) == sorted(d.id for d in deliveries)


def test_a_page_only_criterion_is_an_error_not_critical(store, clock) -> None:
    pager = FakePager()
    page_incident(store, SPEC, _incident(store, clock, action="page"), pager, clock)
    assert pager.sent[0][0].severity == "error"


def test_no_oncall_no_page(store, clock) -> None:
    bare = make_spec({})
    pager = FakePager()
    assert page_incident(store, bare, _incident(store, clock), pager, clock) == []
    assert [channels for _, channels in pager.sent] == [[]]
    assert escalate_unacknowledged(store, bare, pager, clock) == []
    assert send_test_page(store, bare, FakePager(), clock) == []


def test_an_unacknowledged_incident_pages_the_backup_owner_once(store, clock) -> None:
    late = _incident(store, clock, criterion="error_rate")
    acked = _incident(store, clock, criterion="escalation_rate")
    store.update_incident(
        acked.id, actor="dana", at=clock.now(), status=IncidentStatus.ACKNOWLEDGED
    )
    pager = FakePager()
    clock.advance(599)
    assert escalate_unacknowledged(store, SPEC, pager, clock) == []  # not yet due
    clock.advance(1)
    (escalated,) = escalate_unacknowledged(store, SPEC, pager, clock)
    assert escalated.id == late.id
    assert escalated.escalated_at == clock.now()
    ((page, channels),) = pager.sent
    assert channels == ["slack"]
    assert (page.recipient, page.incident_id) == ("backup_owner", late.id)
    assert [d.recipient for d in store.list_pages(incident_id=late.id)] == ["backup_owner"]
    clock.advance(3600)
    assert escalate_unacknowledged(store, SPEC, pager, clock) == []  # once
    assert len(pager.sent) == 1


def test_a_ticket_is_never_escalated_to_a_page(store, clock) -> None:
    _incident(store, clock, action="ticket", criterion="success_rate")
    pager = FakePager()
    clock.advance(3600)
    assert escalate_unacknowledged(store, SPEC, pager, clock) == []
    assert pager.sent == []


def test_a_test_page_goes_to_every_channel_and_is_recorded(store, clock) -> None:
    pager = FakePager()
    deliveries = send_test_page(store, SPEC, pager, clock)
    ((page, channels),) = pager.sent
    assert channels == ["webhook", "pagerduty", "slack"]
    assert page.test
    assert (page.severity, page.dedup_key, page.incident_id) == ("info", f"{SPEC.name}:test", None)
    assert "No action needed" in page.summary
    assert all(d.test and d.delivered for d in deliveries)
    assert len(store.list_pages(agent=SPEC.name)) == 3
    # recorded under Warden's name for each channel, which readiness matches on
    oncall = SPEC.spec.oncall
    assert oncall is not None
    labels = [channel_label(c) for c in [*oncall.channels, *oncall.backup_channels]]
    assert sorted(delivery_label(d) for d in store.list_pages(agent=SPEC.name)) == sorted(labels)
    assert deliveries[1].target == "pagerduty routing key R0UT…"


@pytest.mark.parametrize("failing", [set(), {"webhook", "pagerduty", "slack"}])
def test_every_test_delivery_is_recorded_delivered_or_not(store, clock, failing) -> None:
    deliveries = send_test_page(store, SPEC, FakePager(failing), clock)
    assert [d.delivered for d in deliveries] == [not failing] * 3
    assert len(store.list_pages(agent=SPEC.name)) == 3


PD_ONCALL = {
    "channels": [
        {"type": "pagerduty", "target": "OWNERKEY"},
        {"type": "slack", "target": "https://hooks.slack.com/owner"},
        {"type": "pagerduty", "target": "OWNERKEY"},  # listed twice: told once
    ],
    "backup_channels": [
        {"type": "pagerduty", "target": "BACKUPKEY"},
        {"type": "webhook", "target": "https://hooks.example.com/backup"},
    ],
    "ack_timeout_s": 600,
}
PD_SPEC = make_spec({}, oncall=PD_ONCALL)


def _pd_incident(store, clock) -> Incident:
    store.save_spec_version(SpecVersion.of(PD_SPEC, clock.now()))
    incident, _ = store.open_incident(
        make_incident(
            id=f"inc_{next(_ids)}",
            agent=PD_SPEC.name,
            spec_hash=PD_SPEC.content_hash(),
            spec_version="1.0.0",
            dedup_key=f"{PD_SPEC.name}:error_rate:1.0.0",
            opened_at=clock.now(),
            summary="error_rate 40% > 10%: paused the agent",
        )
    )
    return incident


def test_acknowledging_sends_pagerduty_acknowledge_with_the_triggers_dedup_key(
    store, clock
) -> None:
    incident = _pd_incident(store, clock)
    pager = FakePager()
    clock.advance(30)
    update = set_incident_status(
        store,
        incident.id,
        IncidentStatus.ACKNOWLEDGED,
        actor="dana",
        clock=clock,
        reason="on it",
        pager=pager,
    )
    assert update.incident.status is IncidentStatus.ACKNOWLEDGED
    assert update.incident.acked_by == "dana"
    ((page, channels),) = pager.sent
    assert channels == ["pagerduty"]  # PagerDuty only, each routing key once, not the backup's
    assert pager.targets == ["OWNERKEY"]
    assert (page.event_action, page.dedup_key, page.incident_id) == (
        "acknowledge",
        incident.dedup_key,
        incident.id,
    )
    [recorded] = store.list_pages(incident_id=incident.id)
    assert (recorded.event_action, recorded.delivered) == ("acknowledge", True)
    assert [d.id for d in update.deliveries] == [recorded.id]


def test_resolving_an_escalated_incident_tells_the_backup_pagerduty_too(store, clock) -> None:
    incident = _pd_incident(store, clock)
    clock.advance(600)
    escalate_unacknowledged(store, PD_SPEC, FakePager(), clock)
    pager = FakePager(failing={"pagerduty"})
    update = set_incident_status(
        store, incident.id, IncidentStatus.RESOLVED, actor="dana", clock=clock, pager=pager
    )
    assert update.incident.status is IncidentStatus.RESOLVED  # stored although PD failed
    assert pager.targets == ["OWNERKEY", "BACKUPKEY"]
    assert pager.sent[0][0].event_action == "resolve"
    resolves = [p for p in store.list_pages(incident_id=incident.id) if p.event_action == "resolve"]
    assert [(p.delivered, p.error) for p in resolves] == [(False, "HTTP 500")] * 2


def test_without_a_pager_nothing_is_sent_and_a_repeat_is_refused(store, clock) -> None:
    incident = _pd_incident(store, clock)
    update = set_incident_status(
        store, incident.id, IncidentStatus.ACKNOWLEDGED, actor="pagerduty:Dana", clock=clock
    )
    assert update.deliveries == [] and store.list_pages(incident_id=incident.id) == []
    with pytest.raises(RunStateError):
        set_incident_status(store, incident.id, IncidentStatus.ACKNOWLEDGED, actor="x", clock=clock)
    with pytest.raises(ValueError, match="acknowledged or resolved"):
        set_incident_status(store, incident.id, IncidentStatus.OPEN, actor="x", clock=clock)


def test_no_pagerduty_channel_no_event(store, clock) -> None:
    incident = _incident(store, clock)  # SPEC is not stored: the newest stored spec is used
    store.save_spec_version(SpecVersion.of(make_spec({}), clock.now()))
    pager = FakePager()
    update = set_incident_status(
        store, incident.id, IncidentStatus.RESOLVED, actor="dana", clock=clock, pager=pager
    )
    assert update.deliveries == [] and pager.sent == []


def test_the_unresolved_incident_is_found_by_its_dedup_key(store, clock) -> None:
    incident = _pd_incident(store, clock)
    assert unresolved_incident(store, incident.dedup_key) == incident
    store.update_incident(
        incident.id, actor="dana", at=clock.now(), status=IncidentStatus.ACKNOWLEDGED
    )
    found = unresolved_incident(store, incident.dedup_key)
    assert found is not None and found.status is IncidentStatus.ACKNOWLEDGED
    store.update_incident(incident.id, actor="dana", at=clock.now(), status=IncidentStatus.RESOLVED)
    assert unresolved_incident(store, incident.dedup_key) is None
    assert unresolved_incident(store, "no:such:key") is None
