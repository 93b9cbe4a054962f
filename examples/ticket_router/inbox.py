"""A pager that delivers to a local inbox instead of the network.

The demo must not reach the internet, yet its pages should be the real thing: each page is
rendered exactly as Warden's HTTP pager would send it (PagerDuty Events API v2, Slack
incoming webhook, generic JSON webhook: ``warden.core.paging.channel_payload``; e-mail is
skipped, as the HTTP pager does not send it either) and kept in ``messages``
(and, when ``path`` is given, appended to a JSON-lines file you can read afterwards).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warden.core.incidents import PageDelivery
from warden.core.paging import Page, channel_payload
from warden.core.spec import OnCallChannel

__all__ = ["LocalInbox"]


@dataclass
class LocalInbox:
    """Implements ``warden.core.paging.Pager``; every page is delivered locally.

    Attributes:
        path: JSON-lines file each delivered body is appended to (None: memory only).
        messages: ``(channel type, target, body)`` of every delivery, in order.
    """

    path: Path | None = None
    messages: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=list[tuple[str, str, dict[str, Any]]]
    )

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        """Render ``page`` for each channel and keep it; one delivery per channel."""
        deliveries: list[PageDelivery] = []
        for ch in channels:
            body = channel_payload(page, ch)
            if body is not None:  # None: e-mail, not sent (as with the HTTP pager)
                self._keep(ch, body)
            deliveries.append(
                PageDelivery(
                    id=f"pg_{uuid.uuid4().hex[:16]}",
                    agent=page.agent,
                    incident_id=page.incident_id,
                    channel=ch.type,
                    target=f"local inbox ({ch.type})",
                    recipient=page.recipient,
                    event_action=page.event_action,
                    delivered=body is not None,
                    status_code=None,
                    attempts=1 if body is not None else 0,
                    error=None if body is not None else "email pages are not sent yet",
                    test=page.test,
                    at=page.at,
                )
            )
        return deliveries

    def _keep(self, ch: OnCallChannel, body: dict[str, Any]) -> None:
        self.messages.append((ch.type, ch.target, body))
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"channel": ch.type, "target": ch.target, "body": body}) + "\n")
