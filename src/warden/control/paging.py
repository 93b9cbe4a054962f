"""Page the on-call channels about an incident, escalate to the backup owner, test pages.

Every delivery attempt is recorded (``warden incidents show``), delivered or not. An
incident nobody acknowledged within ``oncall.ack_timeout_s`` is paged again to
``oncall.backup_channels`` (once), and marked escalated in the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from warden.core.clock import Clock
from warden.core.incidents import Incident, IncidentStatus, PageDelivery
from warden.core.paging import Page, Pager
from warden.core.ports import Store
from warden.core.spec import AgentSpec

__all__ = ["escalate_unacknowledged", "page_incident", "send_test_page"]


def _page(spec: AgentSpec, incident: Incident, clock: Clock, recipient: str) -> Page:
    return Page(
        agent=spec.name,
        incident_id=incident.id,
        dedup_key=incident.dedup_key,
        summary=incident.summary,
        severity="critical" if incident.action != "page" else "error",
        source=f"warden:{spec.name}",
        component=incident.spec_version or incident.spec_hash[:12],
        group=incident.criterion,
        runbook=spec.metadata.runbook,
        details={
            "incident": incident.id,
            "metric": incident.metric,
            "value": incident.value,
            "threshold": incident.threshold,
            "samples": incident.samples,
            "applied": incident.applied,
            "owner": spec.metadata.owner,
            "backup_owner": spec.metadata.backup_owner,
        },
        at=clock.now(),
        recipient="backup_owner" if recipient == "backup_owner" else "owner",
    )


def page_incident(
    store: Store, spec: AgentSpec, incident: Incident, pager: Pager, clock: Clock
) -> list[PageDelivery]:
    """Page the owner's channels about ``incident`` and record each delivery."""
    channels = spec.spec.oncall.channels if spec.spec.oncall else []
    deliveries = pager.send(_page(spec, incident, clock, "owner"), channels)
    return [store.record_page(d) for d in deliveries]


def escalate_unacknowledged(
    store: Store, spec: AgentSpec, pager: Pager, clock: Clock
) -> list[Incident]:
    """Page the backup owner for open incidents older than ``oncall.ack_timeout_s``.

    Returns:
        The incidents escalated now.
    """
    oncall = spec.spec.oncall
    if oncall is None:
        return []
    due = clock.now() - timedelta(seconds=oncall.ack_timeout_s)
    escalated: list[Incident] = []
    for incident in store.list_incidents(spec.name, status=IncidentStatus.OPEN):
        if incident.escalated_at is not None or incident.opened_at > due:
            continue
        for d in pager.send(_page(spec, incident, clock, "backup_owner"), oncall.backup_channels):
            store.record_page(d)
        escalated.append(
            store.update_incident(
                incident.id,
                actor="warden",
                at=clock.now(),
                escalated=True,
                reason=f"not acknowledged within {oncall.ack_timeout_s:g} s: paged the backup "
                f"owner {spec.metadata.backup_owner}",
            )
        )
    return escalated


def send_test_page(store: Store, spec: AgentSpec, pager: Pager, clock: Clock) -> list[PageDelivery]:
    """Send a test page to every channel (owner's and backup's); record the deliveries.

    A delivered test page is what the readiness review's ``oncall`` item looks for.
    """
    oncall = spec.spec.oncall
    channels = [*oncall.channels, *oncall.backup_channels] if oncall else []
    page = Page(
        agent=spec.name,
        dedup_key=f"{spec.name}:test",
        summary=f"Test page for {spec.name}: the on-call route works. No action needed.",
        severity="info",
        source=f"warden:{spec.name}",
        runbook=spec.metadata.runbook,
        at=clock.now(),
        test=True,
    )
    return [store.record_page(d) for d in pager.send(page, channels)]
