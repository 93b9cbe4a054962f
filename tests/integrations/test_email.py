"""Email pages over SMTP against a local ``aiosmtpd`` server (nothing leaves 127.0.0.1): the
message, login, retries on 4xx but not 5xx, and what is recorded without SMTP settings."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from warden.core.paging import Page
from warden.core.spec import OnCallChannel
from warden.integrations.email import SMTP_NOT_CONFIGURED, SmtpSettings
from warden.integrations.pagers import HttpPager

PAGE = Page(
    agent="ticket-router",
    incident_id="inc_42",
    dedup_key="ticket-router:error_rate:1.0.0",
    summary="ticket-router 1.0.0: error_rate 40% > 10% over 3600 s: paused the agent",
    runbook="https://runbooks.example.com/ticket-router",
    details={"metric": "error_rate", "value": 0.4},
    at=datetime(2026, 1, 1, tzinfo=UTC),
)
EMAIL = OnCallChannel(type="email", target="oncall@example.com")
_SMTP_ENV = ("HOST", "PORT", "FROM", "USER", "PASSWORD", "STARTTLS")


class Inbox:
    """An aiosmtpd handler that keeps each message; ``replies`` answers DATA in order (the
    last repeats), default ``250 OK``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.replies: list[str] = ["250 OK"]
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.startswith("250"):
            content = envelope.content
            msg = email.message_from_bytes(content, policy=default)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return reply

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret", handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    server = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_require_tls=False,
    )
    server.start()
    try:
        yield handler, port
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_smtp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SMTP_ENV:
        monkeypatch.delenv(f"WARDEN_SMTP_{name}", raising=False)


def _pager(**kw: Any) -> HttpPager:
    return HttpPager(sleep=lambda s: None, **kw)


def test_an_email_page_reaches_the_smtp_server_with_summary_runbook_and_ack(
    inbox, monkeypatch
) -> None:
    handler, port = inbox
    monkeypatch.setenv("WARDEN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WARDEN_SMTP_PORT", str(port))
    monkeypatch.setenv("WARDEN_SMTP_FROM", "warden@example.com")
    [d] = _pager().send(PAGE, [EMAIL])
    assert (d.delivered, d.channel, d.target, d.attempts, d.error) == (
        True,
        "email",
        "oncall@example.com",
        1,
        None,
    )
    [(sender, to, msg)] = handler.messages
    assert (sender, to) == ("warden@example.com", ["oncall@example.com"])
    assert msg["Subject"] == f"[Warden critical] {PAGE.summary}"
    assert msg["X-Warden-Dedup-Key"] == PAGE.dedup_key
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert PAGE.summary in body
    assert "Runbook: https://runbooks.example.com/ticket-router" in body
    assert "warden incidents ack inc_42" in body
    assert "POST /api/incidents/inc_42/ack" in body
    assert "value: 0.4" in body


def test_login_when_a_user_is_set_and_a_refused_login_is_final(inbox) -> None:
    handler, port = inbox
    good = SmtpSettings(
        host="127.0.0.1", port=port, sender="w@example.com", user="warden", password="s3cret"
    )
    [ok] = _pager(smtp=good).send(PAGE, [EMAIL])
    assert ok.delivered and handler.logins == [("warden", "s3cret")]
    bad = SmtpSettings(
        host="127.0.0.1", port=port, sender="w@example.com", user="warden", password="wrong"
    )
    [refused] = _pager(smtp=bad).send(PAGE, [EMAIL])
    assert (refused.delivered, refused.attempts) == (False, 1)
    assert refused.error is not None and "535" in refused.error


def test_a_4xx_reply_is_retried_a_5xx_is_not(inbox) -> None:
    handler, port = inbox
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="w@example.com")
    handler.replies = ["451 try again later", "250 OK"]
    waits: list[float] = []
    [d] = HttpPager(sleep=waits.append, smtp=smtp).send(PAGE, [EMAIL])
    assert (d.delivered, d.attempts, waits) == (True, 2, [0.5])
    handler.replies = ["554 no thanks"]
    [d] = _pager(smtp=smtp).send(PAGE, [EMAIL])
    assert (d.delivered, d.attempts) == (False, 1)
    assert d.error is not None and d.error.startswith("SMTP error") and "554" in d.error


def test_starttls_against_a_server_without_it_fails_clearly(inbox) -> None:
    _, port = inbox
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="w@example.com", starttls=True)
    [d] = _pager(smtp=smtp).send(PAGE, [EMAIL])
    assert not d.delivered
    assert d.error is not None and "STARTTLS" in d.error


def test_without_smtp_settings_the_delivery_is_recorded_failed_with_the_reason() -> None:
    [d] = _pager().send(PAGE, [EMAIL])
    assert (d.delivered, d.attempts, d.error) == (False, 0, SMTP_NOT_CONFIGURED)


def test_an_unreachable_smtp_server_is_retried_and_reported() -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=_free_port(), sender="w@example.com", timeout_s=1)
    [d] = HttpPager(sleep=lambda s: None, attempts=2, smtp=smtp).send(PAGE, [EMAIL])
    assert (d.delivered, d.attempts) == (False, 2)
    assert d.error is not None and d.error.startswith("SMTP error")


def test_settings_from_the_environment() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"WARDEN_SMTP_HOST": "mail"}) is None  # no sender
    env = {"WARDEN_SMTP_HOST": "mail", "WARDEN_SMTP_FROM": "w@example.com"}
    assert SmtpSettings.from_env(env) == SmtpSettings(host="mail", sender="w@example.com")
    tls = SmtpSettings.from_env(
        env
        | {
            "WARDEN_SMTP_STARTTLS": "true",
            "WARDEN_SMTP_USER": "u",
            "WARDEN_SMTP_PASSWORD": "p",
        }
    )
    assert tls is not None and (tls.port, tls.starttls, tls.user, tls.password) == (
        587,
        True,
        "u",
        "p",
    )


def test_a_bad_port_is_a_failed_delivery_with_the_reason(monkeypatch) -> None:
    monkeypatch.setenv("WARDEN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WARDEN_SMTP_FROM", "w@example.com")
    monkeypatch.setenv("WARDEN_SMTP_PORT", "smtp")
    [d] = _pager().send(PAGE, [EMAIL])
    assert not d.delivered
    assert d.error is not None and "WARDEN_SMTP_PORT='smtp'" in d.error


def test_a_test_page_says_no_action_needed() -> None:
    from warden.core.paging import email_text

    subject, body = email_text(PAGE.model_copy(update={"test": True, "incident_id": None}))
    assert subject.startswith("[Warden critical]")
    assert "No action needed" in body and "warden incidents ack" not in body
