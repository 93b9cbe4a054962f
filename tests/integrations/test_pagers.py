"""HttpPager against a local server: each channel's format, retries, no retry on 400."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.pages_server import page_sink
from warden.core.paging import Page
from warden.core.spec import OnCallChannel
from warden.integrations.email import SMTP_NOT_CONFIGURED
from warden.integrations.pagers import HttpPager

PAGE = Page(
    agent="ticket-router",
    incident_id="inc_1",
    dedup_key="ticket-router:error_rate>0.1/3600s:1.0.0",
    summary="ticket-router 1.0.0: kill criterion tripped",
    runbook="https://runbooks.example.com/ticket-router",
    at=datetime(2026, 1, 1, tzinfo=UTC),
)
waits: list[float] = []
pager = HttpPager(sleep=waits.append, timeout_s=2)


def test_each_channel_gets_its_format(monkeypatch) -> None:
    monkeypatch.delenv("WARDEN_SMTP_HOST", raising=False)  # no SMTP: email is not sent
    with page_sink() as sink:
        channels = [
            OnCallChannel(type="webhook", target=f"{sink.url}/hook"),
            OnCallChannel(type="pagerduty", target="R0UTINGKEY", url=f"{sink.url}/pd"),
            OnCallChannel(type="slack", target=f"{sink.url}/slack"),
            OnCallChannel(type="email", target="oncall@example.com"),
        ]
        deliveries = pager.send(PAGE, channels)
        [hook], [pd], [slack] = sink.bodies("/hook"), sink.bodies("/pd"), sink.bodies("/slack")
    assert [d.delivered for d in deliveries] == [True, True, True, False]
    assert deliveries[3].error == SMTP_NOT_CONFIGURED  # tests/integrations/test_email.py
    assert hook["dedup_key"] == PAGE.dedup_key
    assert pd["routing_key"] == "R0UTINGKEY"
    assert pd["event_action"] == "trigger"
    assert pd["dedup_key"] == "ticket-router:error_rate>0.1/3600s:1.0.0"
    assert pd["payload"]["summary"] == PAGE.summary
    assert pd["payload"]["source"] == "warden"
    assert pd["payload"]["severity"] == "critical"
    assert pd["links"] == [{"href": PAGE.runbook, "text": "Runbook"}]
    assert deliveries[1].target.startswith("pagerduty routing key R0UT")  # key not stored whole
    assert "kill criterion tripped" in slack["text"]
    assert "Runbook: https://runbooks" in slack["text"]


def test_retries_5xx_and_429_but_never_400() -> None:
    waits.clear()
    with page_sink() as sink:
        sink.status["/flaky"] = [503, 429, 202]
        sink.status["/bad"] = [400]
        flaky, bad = pager.send(
            PAGE,
            [
                OnCallChannel(type="webhook", target=f"{sink.url}/flaky"),
                OnCallChannel(type="webhook", target=f"{sink.url}/bad"),
            ],
        )
        assert len(sink.bodies("/flaky")) == 3
        assert len(sink.bodies("/bad")) == 1
    assert (flaky.delivered, flaky.attempts, flaky.status_code) == (True, 3, 202)
    assert (bad.delivered, bad.attempts, bad.error) == (False, 1, "HTTP 400")
    assert waits == [0.5, 1.0]


def test_an_unreachable_channel_is_reported_not_raised() -> None:
    with page_sink() as sink:
        dead = sink.url
    [d] = HttpPager(sleep=lambda s: None, attempts=2, timeout_s=0.5).send(
        PAGE, [OnCallChannel(type="webhook", target=f"{dead}/gone")]
    )
    assert not d.delivered
    assert d.attempts == 2
    assert d.error is not None and d.error.startswith("network error")


def test_acknowledge_and_resolve_carry_the_dedup_key_and_no_payload() -> None:
    with page_sink() as sink:
        pd = OnCallChannel(type="pagerduty", target="R0UTINGKEY", url=f"{sink.url}/pd")
        for action in ("acknowledge", "resolve"):
            [d] = pager.send(PAGE.model_copy(update={"event_action": action}), [pd])
            assert (d.delivered, d.event_action) == (True, action)
        ack, resolve = sink.bodies("/pd")
    for body, action in ((ack, "acknowledge"), (resolve, "resolve")):
        assert body == {
            "routing_key": "R0UTINGKEY",
            "event_action": action,
            "dedup_key": PAGE.dedup_key,
            "client": "Warden",
        }
