"""Paging: an incident goes to the owner's channels, an unacknowledged one to the backup
owner's (once), a test page to every channel; every delivery is recorded. The pager is a
fake that records what it was asked to send."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import make_incident, make_spec
from warden.control.paging import escalate_unacknowledged, page_incident, send_test_page
from warden.core.decisions import RuleMode
from warden.core.incidents import Incident, IncidentStatus, PageDelivery
from warden.core.paging import Page
from warden.core.spec import OnCallChannel

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

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        self.sent.append((page, [c.type for c in channels]))
        return [
            PageDelivery(
                id=f"pg_{next(_ids)}",
                agent=page.agent,
                incident_id=page.incident_id,
                channel=c.type,
                target=c.target,
                recipient=page.recipient,
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


@pytest.mark.parametrize("failing", [set(), {"webhook", "pagerduty", "slack"}])
def test_every_test_delivery_is_recorded_delivered_or_not(store, clock, failing) -> None:
    deliveries = send_test_page(store, SPEC, FakePager(failing), clock)
    assert [d.delivered for d in deliveries] == [not failing] * 3
    assert len(store.list_pages(agent=SPEC.name)) == 3
