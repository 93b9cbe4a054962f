"""Page the on-call channels about an incident, escalate to the backup owner, test pages,
and tell PagerDuty when an incident is acknowledged or resolved in Warden.

Every delivery attempt is recorded (``warden incidents show``), delivered or not. An
incident nobody acknowledged within ``oncall.ack_timeout_s`` is paged again to
``oncall.backup_channels`` (once), and marked escalated in the audit log.

Acknowledging and resolving go through ``set_incident_status`` (CLI and API): it updates
the store, then sends PagerDuty Events API v2 ``acknowledge`` / ``resolve`` with the
trigger's ``dedup_key`` to the incident's PagerDuty channels (the owner's, and the backup
owner's once escalated). A change that came from PagerDuty (its webhook) is not sent back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from warden.core.clock import Clock
from warden.core.incidents import Incident, IncidentStatus, PageDelivery
from warden.core.paging import Page, Pager, shown_target
from warden.core.ports import Store
from warden.core.spec import AgentSpec, OnCallChannel

__all__ = [
    "IncidentUpdate",
    "escalate_unacknowledged",
    "page_incident",
    "send_test_page",
    "set_incident_status",
    "unresolved_incident",
]

_EVENT_ACTION: dict[IncidentStatus, Literal["acknowledge", "resolve"]] = {
    IncidentStatus.ACKNOWLEDGED: "acknowledge",
    IncidentStatus.RESOLVED: "resolve",
}
"""The PagerDuty Events API v2 ``event_action`` that follows each status change."""


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
    """Page the backup owner for open incidents older than ``oncall.ack_timeout_s``
    (not for ``ticket`` incidents: a slow SLO burn is work for the day, not a page).

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
        if incident.action == "ticket":
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

    The readiness review's ``oncall`` item passes once every channel has had one delivered
    (``delivery_label`` equal to the channel's ``channel_label``).
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
    deliveries = pager.send(page, channels)
    # The readiness review matches these to the spec's channels by ``channel_label``, so
    # each is recorded under Warden's name for its channel, whatever the pager calls it.
    return [
        store.record_page(d.model_copy(update={"target": shown_target(ch)}))
        for d, ch in zip(deliveries, channels, strict=True)
    ]


@dataclass(frozen=True)
class IncidentUpdate:
    """An incident after an acknowledgement or resolution, and what PagerDuty was told.

    Attributes:
        incident: The incident as stored now.
        deliveries: The ``acknowledge``/``resolve`` events sent (one per PagerDuty channel;
            none when not notified or the incident has no PagerDuty channel).
    """

    incident: Incident
    deliveries: list[PageDelivery] = field(default_factory=list[PageDelivery])


def _incident_spec(store: Store, incident: Incident) -> AgentSpec | None:
    """The spec version that opened ``incident``, else the agent's newest stored one."""
    version = store.get_spec_version(incident.agent, incident.spec_hash)
    if version is None:
        versions = store.list_spec_versions(incident.agent)
        version = versions[0] if versions else None
    return AgentSpec.model_validate(version.spec) if version is not None else None


def _pagerduty_channels(spec: AgentSpec, incident: Incident) -> list[OnCallChannel]:
    """The PagerDuty channels the trigger went to: the owner's, and the backup owner's when
    the incident was escalated; each routing key and endpoint once."""
    oncall = spec.spec.oncall
    if oncall is None:
        return []
    paged = [*oncall.channels, *(oncall.backup_channels if incident.escalated_at else [])]
    seen: set[tuple[str, str | None]] = set()
    found: list[OnCallChannel] = []
    for ch in paged:
        if ch.type == "pagerduty" and (ch.target, ch.url) not in seen:
            seen.add((ch.target, ch.url))
            found.append(ch)
    return found


def set_incident_status(
    store: Store,
    incident_id: str,
    status: IncidentStatus,
    *,
    actor: str,
    clock: Clock,
    reason: str = "",
    pager: Pager | None = None,
) -> IncidentUpdate:
    """Acknowledge or resolve an incident (audited), then tell its PagerDuty channels.

    The store is updated first: a PagerDuty that cannot be reached does not undo the
    change; each event sent is recorded (``store.record_page``) delivered or not, with
    ``event_action`` ``acknowledge`` or ``resolve`` and the trigger's ``dedup_key``.

    Args:
        store: The store.
        incident_id: The incident.
        status: ``acknowledged`` or ``resolved``.
        actor: Who did it (a principal, or ``pagerduty:<user>`` from the webhook).
        clock: Now.
        reason: Recorded in the audit log.
        pager: Sends the PagerDuty events; None sends nothing (a change that came from
            PagerDuty itself, so nothing echoes back).

    Raises:
        ValueError: ``status`` is ``open``.
        NotFoundError: No such incident.
        RunStateError: It is already in that status, or resolved.
    """
    action = _EVENT_ACTION.get(status)
    if action is None:
        raise ValueError(f"an incident can be acknowledged or resolved, not set {status.value}")
    incident = store.update_incident(
        incident_id, actor=actor, at=clock.now(), status=status, reason=reason
    )
    spec = _incident_spec(store, incident) if pager is not None else None
    channels = _pagerduty_channels(spec, incident) if spec is not None else []
    if pager is None or spec is None or not channels:
        return IncidentUpdate(incident)
    page = _page(spec, incident, clock, "owner").model_copy(update={"event_action": action})
    return IncidentUpdate(incident, [store.record_page(d) for d in pager.send(page, channels)])


def unresolved_incident(store: Store, dedup_key: str) -> Incident | None:
    """The open or acknowledged incident with ``dedup_key`` (the PagerDuty incident key),
    or None. At most one is unresolved per key (``Store.open_incident``)."""
    for status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED):
        for incident in store.list_incidents(status=status):
            if incident.dedup_key == dedup_key:
                return incident
    return None
