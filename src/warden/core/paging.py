"""Pages: what is sent to the on-call channels, as each channel expects it.

- **PagerDuty Events API v2** (``POST https://events.pagerduty.com/v2/enqueue``,
  https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): ``routing_key``,
  ``event_action`` (``trigger``/``acknowledge``/``resolve``), ``dedup_key`` (<= 255 chars;
  here ``agent:criterion:version``, so repeated trips of one criterion on one version are
  one alert), ``payload`` with ``summary`` (<= 1024 chars), ``source``, ``severity``
  (``critical``/``error``/``warning``/``info``), ``timestamp``, ``component``, ``group``,
  ``class``, ``custom_details``, and ``links`` (the runbook). 202 means accepted.
- **Slack incoming webhook** (https://api.slack.com/messaging/webhooks): ``{"text": ...}``.
- **Generic webhook**: the ``Page`` itself as JSON.
- **Email** (SMTP, RFC 5322): a plain-text message (``email_text``) with the summary, the
  runbook and how to acknowledge.

A trigger opens the PagerDuty alert; ``acknowledge`` and ``resolve`` events with the same
``dedup_key`` (no ``payload``) follow the incident in Warden. The ``Pager`` protocol sends;
the HTTP and SMTP implementation lives at the edge (``warden.integrations.pagers``) so the
runtime does no network I/O of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from warden.core.incidents import PageDelivery
from warden.core.spec import OnCallChannel

__all__ = [
    "PAGERDUTY_URL",
    "Page",
    "Pager",
    "channel_label",
    "channel_payload",
    "delivery_label",
    "email_text",
    "pagerduty_payload",
    "shown_target",
    "slack_payload",
    "webhook_payload",
]

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
"""PagerDuty Events API v2 endpoint."""


class Page(BaseModel):
    """One page about one incident (or a test page)."""

    model_config = ConfigDict(frozen=True)

    agent: str
    incident_id: str | None = None
    dedup_key: str = Field(max_length=255)
    summary: str
    """One line; cut to 1024 characters for PagerDuty."""
    severity: Literal["critical", "error", "warning", "info"] = "critical"
    source: str = "warden"
    component: str = ""
    """The spec version."""
    group: str = ""
    """The criterion."""
    event_action: Literal["trigger", "acknowledge", "resolve"] = "trigger"
    runbook: str = ""
    details: dict[str, Any] = Field(default_factory=dict[str, Any])
    at: datetime
    recipient: Literal["owner", "backup_owner"] = "owner"
    test: bool = False


def pagerduty_payload(page: Page, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for ``page``."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": page.event_action,
        "dedup_key": page.dedup_key,
        "client": "Warden",
    }
    if page.event_action == "trigger":
        body["payload"] = {
            "summary": page.summary[:1024],
            "source": page.source,
            "severity": page.severity,
            "timestamp": page.at.isoformat(),
            "component": page.component or page.agent,
            "group": page.group or page.agent,
            "class": "kill_criterion" if not page.test else "test",
            "custom_details": {"agent": page.agent, "recipient": page.recipient, **page.details},
        }
        if page.runbook:
            body["links"] = [{"href": page.runbook, "text": "Runbook"}]
    return body


def slack_payload(page: Page) -> dict[str, Any]:
    """A Slack incoming-webhook message for ``page``."""
    runbook = f"\nRunbook: {page.runbook}" if page.runbook else ""
    who = (
        " (backup owner: the owner did not acknowledge)" if page.recipient == "backup_owner" else ""
    )
    return {"text": f"[{page.severity}] {page.summary}{who}{runbook}"}


def webhook_payload(page: Page) -> dict[str, Any]:
    """The generic webhook body: the page as JSON."""
    return page.model_dump(mode="json")


def email_text(page: Page) -> tuple[str, str]:
    """The subject and plain-text body of an email page: the summary, what to do (the
    runbook, how to acknowledge) and the details.

    Returns:
        ``(subject, body)``; the subject is one line of at most 200 characters.
    """
    subject = " ".join(f"[Warden {page.severity}] {page.summary}".split())[:200]
    lines = [page.summary, ""]
    if page.recipient == "backup_owner":
        lines += ["You are paged as the backup owner: the owner did not acknowledge.", ""]
    if page.runbook:
        lines += [f"Runbook: {page.runbook}", ""]
    if page.test:
        lines += ["This is a test page: the on-call route works. No action needed.", ""]
    elif page.incident_id:
        lines += [
            "Acknowledge (stops the escalation to the backup owner):",
            f"  warden incidents ack {page.incident_id}",
            f"  or POST /api/incidents/{page.incident_id}/ack",
            f"Resolve: warden incidents resolve {page.incident_id} --reason '...'",
            "",
        ]
    lines += [f"Agent: {page.agent}", f"At: {page.at.isoformat()}"]
    lines += [f"{k}: {v}" for k, v in page.details.items()]
    lines += [f"Dedup key: {page.dedup_key}"]
    return subject, "\n".join(lines) + "\n"


def shown_target(channel: OnCallChannel) -> str:
    """Where a delivery to ``channel`` is recorded as going: the URL or address, or for
    PagerDuty the routing key masked (its first 4 characters; a routing key is a secret)."""
    if channel.type == "pagerduty":
        return f"pagerduty routing key {channel.target[:4]}…"
    return channel.target


def _label(kind: str, target: str) -> str:
    return target if target.startswith(f"{kind} ") else f"{kind} {target}"


def channel_label(channel: OnCallChannel) -> str:
    """``type target`` of ``channel`` (e.g. ``slack https://hooks...``, ``pagerduty routing
    key R0UT…``), as ``delivery_label`` names a delivery to it."""
    return _label(channel.type, shown_target(channel))


def delivery_label(delivery: PageDelivery) -> str:
    """``channel target`` of ``delivery``: equal to ``channel_label`` of its channel."""
    return _label(delivery.channel, delivery.target)


def channel_payload(page: Page, channel: OnCallChannel) -> dict[str, Any] | None:
    """The body ``channel`` expects for ``page``: PagerDuty Events v2, Slack or the generic
    webhook; None for ``email``, which goes over SMTP (``email_text``), not HTTP."""
    if channel.type == "pagerduty":
        return pagerduty_payload(page, channel.target)
    if channel.type == "slack":
        return slack_payload(page)
    if channel.type == "webhook":
        return webhook_payload(page)
    return None


class Pager(Protocol):
    """Sends a page to channels and reports each delivery (never raises for a channel)."""

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        """Deliver ``page`` to every channel; one ``PageDelivery`` per channel, in the
        order of ``channels``."""
        ...
