"""``HttpPager``: deliver pages over HTTP (stdlib ``urllib``) and email over SMTP
(``integrations.email``); no extra dependency.

Each channel gets its own format (``core.paging``). Delivery follows the PagerDuty Events
API v2 guidance for every channel: retry on 429, 5xx and network errors with exponential
backoff, never retry another 4xx (the request is wrong; sending it again will not help).
For email an SMTP 4xx reply is the one retried, a 5xx is final (RFC 5321).
Delivery is at least once: a page whose response was lost may arrive twice, which is
better than never (PagerDuty dedups on ``dedup_key``).
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from warden.core.incidents import PageDelivery
from warden.core.paging import PAGERDUTY_URL, Page, channel_payload, shown_target
from warden.core.spec import OnCallChannel
from warden.errors import ConfigError
from warden.integrations.email import (
    SMTP_NOT_CONFIGURED,
    SmtpSettings,
    email_message,
    is_transient,
    send_email,
)

__all__ = ["HttpPager"]


class HttpPager:
    """Send pages with HTTP POSTs.

    Args:
        timeout_s: Seconds per request (default 5).
        attempts: Tries per channel (default 3).
        backoff_s: First wait between tries, doubled each time (default 0.5 s).
        sleep: Waits between tries (injected in tests).
        smtp: The SMTP server for email channels; None (the default) reads the
            ``WARDEN_SMTP_*`` environment when an email page is sent
            (``SmtpSettings.from_env``).
    """

    def __init__(
        self,
        *,
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        smtp: SmtpSettings | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.smtp = smtp

    def send(self, page: Page, channels: list[OnCallChannel]) -> list[PageDelivery]:
        """Deliver ``page`` to each channel; a failed channel does not stop the others."""
        return [self._one(page, ch) for ch in channels]

    def _one(self, page: Page, ch: OnCallChannel) -> PageDelivery:
        shown = shown_target(ch)
        if ch.type == "email":
            error, tries = self._mail(page, ch.target)
            return self._delivery(page, ch, shown, error is None, None, tries, error)
        body = channel_payload(page, ch)
        assert body is not None  # every channel but email has an HTTP body
        url = (ch.url or PAGERDUTY_URL) if ch.type == "pagerduty" else ch.target
        status, error, tries = self._post(url, body)
        ok = status is not None and 200 <= status < 300
        return self._delivery(page, ch, shown, ok, status, tries, None if ok else error)

    def _mail(self, page: Page, to: str) -> tuple[str | None, int]:
        """Email ``page`` to ``to``: ``(error or None, attempts)``."""
        try:
            settings = self.smtp or SmtpSettings.from_env()
        except ConfigError as exc:
            return f"email not sent: {exc}", 0
        if settings is None:
            return SMTP_NOT_CONFIGURED, 0
        msg = email_message(page, to, settings.sender)
        error: str | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                send_email(settings, msg)
                return None, attempt
            except (smtplib.SMTPException, OSError) as exc:
                error = f"SMTP error: {exc}"
                if not is_transient(exc):
                    return error, attempt  # a 5xx reply: sending it again will not help
            if attempt < self.attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        return error, self.attempts

    def _post(self, url: str, body: dict[str, Any]) -> tuple[int | None, str | None, int]:
        data = json.dumps(body).encode()
        status: int | None = None
        error: str | None = None
        for attempt in range(1, self.attempts + 1):
            req = urllib.request.Request(
                url, data=data, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return int(resp.status), None, attempt
            except urllib.error.HTTPError as exc:
                status, error = exc.code, f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    return status, error, attempt  # never retry a request the server refused
            except (urllib.error.URLError, OSError) as exc:
                status, error = None, f"network error: {exc}"
            if attempt < self.attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        return status, error, self.attempts

    @staticmethod
    def _delivery(
        page: Page,
        ch: OnCallChannel,
        target: str,
        delivered: bool,
        status: int | None,
        attempts: int,
        error: str | None,
    ) -> PageDelivery:
        return PageDelivery(
            id=f"pg_{uuid.uuid4().hex[:16]}",
            agent=page.agent,
            incident_id=page.incident_id,
            channel=ch.type,
            target=target,
            recipient=page.recipient,
            event_action=page.event_action,
            delivered=delivered,
            status_code=status,
            attempts=attempts,
            error=error,
            test=page.test,
            at=page.at,
        )
