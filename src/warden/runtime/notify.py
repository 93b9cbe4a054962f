"""A queue's notifier: tell a webhook (or a Slack incoming webhook) that a packet landed.

``HandoffNotifier`` is a run hook the governor installs when the spec's
``escalation.notify`` names a URL: when a run ends with a packet (``Run.handoff``), it
POSTs ``notice_of`` the packet from a daemon thread (a few seconds' timeout, failures
logged), so a slow or dead receiver never holds up a run.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import httpx

from warden.core.runs import Handoff, ModelCallRecord

if TYPE_CHECKING:
    from warden.runtime.run import Run

__all__ = ["HandoffNotifier", "notice_of"]

log = logging.getLogger("warden.handoff")


def notice_of(handoff: Handoff, base_url: str = "") -> dict[str, Any]:
    """What a queue's webhook receives about a packet (``text`` is for Slack).

    Args:
        handoff: The packet.
        base_url: The dashboard's address, prefixed to ``link`` (empty: a relative link).
    """
    link = f"{base_url.rstrip('/')}/queue#handoff-{handoff.id}"
    return {
        "id": handoff.id,
        "run_id": handoff.run_id,
        "agent": handoff.agent,
        "queue": handoff.queue,
        "trigger": handoff.trigger,
        "reason": handoff.reason,
        "link": link,
        "text": f"{handoff.agent} handed a run to {handoff.queue} ({handoff.trigger}): "
        f"{handoff.reason} {link}",
    }


class HandoffNotifier:
    """Run hook: POST ``notice_of`` a run's packet to ``url`` when the run ends.

    Args:
        url: The queue's webhook (spec ``escalation.notify``).
        base_url: The dashboard's address for the link.
        timeout_s: Seconds per POST (default 3).
        transport: An httpx transport (tests).
    """

    def __init__(
        self,
        url: str,
        *,
        base_url: str = "",
        timeout_s: float = 3.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.transport = transport
        self._threads: list[threading.Thread] = []

    def on_run_start(self, run: Run) -> None:
        """Nothing to do."""

    def on_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """Nothing to do."""

    def on_run_end(self, run: Run) -> None:
        """Send the run's packet, if it has one, from a background thread."""
        if run.handoff is None:
            return
        thread = threading.Thread(
            target=self.send, args=(run.handoff,), name="warden-handoff-notify", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def send(self, handoff: Handoff) -> bool:
        """POST one notice now; True when the receiver answered 2xx (never raises)."""
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(self.url, json=notice_of(handoff, self.base_url))
        except httpx.HTTPError as exc:
            log.warning("handoff %s: notifying %s failed: %s", handoff.id, self.url, exc)
            return False
        if not response.is_success:
            log.warning("handoff %s: %s answered %s", handoff.id, self.url, response.status_code)
        return response.is_success

    def wait(self, timeout_s: float = 5.0) -> None:
        """Wait for the notices in flight (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout_s)
