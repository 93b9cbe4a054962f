"""Email pages over SMTP (standard library ``smtplib`` and ``email``; no extra dependency).

Configured from the environment, read when a page is sent (``SmtpSettings.from_env``):

- ``WARDEN_SMTP_HOST`` (required) and ``WARDEN_SMTP_PORT`` (default 25, or 587 with STARTTLS);
- ``WARDEN_SMTP_FROM`` (required): the sender address;
- ``WARDEN_SMTP_USER`` and ``WARDEN_SMTP_PASSWORD`` (optional): SMTP AUTH (RFC 4954);
- ``WARDEN_SMTP_STARTTLS`` (``1``/``true``/``yes``): upgrade the connection with STARTTLS
  (RFC 3207) before logging in.

Without a host and a sender nothing is sent and the delivery is recorded as failed with that
reason. A 4xx reply (RFC 5321 "transient negative completion") or a network error may be
retried; a 5xx reply is final.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from warden.core.paging import Page, email_text
from warden.errors import ConfigError

__all__ = ["SMTP_NOT_CONFIGURED", "SmtpSettings", "email_message", "is_transient", "send_email"]

SMTP_NOT_CONFIGURED = (
    "email not sent: SMTP is not configured (set WARDEN_SMTP_HOST and WARDEN_SMTP_FROM)"
)
"""The recorded error of an email page when no SMTP server is configured."""

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how email pages are sent.

    Attributes:
        host: SMTP server host name.
        sender: ``From`` address (and envelope sender).
        port: TCP port (default 25).
        user: SMTP AUTH user name (None: no login).
        password: SMTP AUTH password.
        starttls: Upgrade the connection with STARTTLS before logging in.
        timeout_s: Seconds per connection attempt and per reply (default 10).
    """

    host: str
    sender: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings in ``env`` (default ``os.environ``); None when no host or sender.

        Raises:
            ConfigError: ``WARDEN_SMTP_PORT`` is not a port number.
        """
        env = os.environ if env is None else env
        host = env.get("WARDEN_SMTP_HOST", "").strip()
        sender = env.get("WARDEN_SMTP_FROM", "").strip()
        if not host or not sender:
            return None
        starttls = env.get("WARDEN_SMTP_STARTTLS", "").strip().lower() in _TRUE
        raw_port = env.get("WARDEN_SMTP_PORT", "").strip()
        try:
            port = int(raw_port) if raw_port else (587 if starttls else 25)
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise ConfigError(f"WARDEN_SMTP_PORT={raw_port!r} is not a TCP port number")
        return cls(
            host=host,
            sender=sender,
            port=port,
            user=env.get("WARDEN_SMTP_USER") or None,
            password=env.get("WARDEN_SMTP_PASSWORD") or None,
            starttls=starttls,
        )


def email_message(page: Page, to: str, sender: str) -> EmailMessage:
    """The email for ``page`` to ``to``: plain text, subject and body from ``email_text``."""
    subject, body = email_text(page)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(page.at.timestamp(), usegmt=True)
    msg["Message-ID"] = make_msgid(domain="warden")
    msg["X-Warden-Dedup-Key"] = page.dedup_key
    msg.set_content(body)
    return msg


def send_email(settings: SmtpSettings, msg: EmailMessage) -> None:
    """Send ``msg`` through the SMTP server of ``settings`` (one attempt).

    Raises:
        smtplib.SMTPException: The server refused (``is_transient`` tells whether to retry).
        OSError: The server could not be reached.
    """
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(msg)


def is_transient(exc: BaseException) -> bool:
    """Whether sending again may help: a network error, a dropped connection or a 4xx
    SMTP reply (a 5xx reply, a refused login or a TLS failure is final)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):
        return False
    return isinstance(exc, OSError)
