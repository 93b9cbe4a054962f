"""A queue's notifier: a packet landing in a queue with ``escalation.notify`` POSTs a small
JSON to it, from a background thread, never holding up or failing the run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from warden.core.runs import Handoff
from warden.runtime.notify import HandoffNotifier, notice_of

ESCALATION = {"queue": "tier1-humans", "notify": "http://127.0.0.1:1/hook"}


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], threading.Event]]:
    """A local webhook receiver: its URL, the bodies it got, and an event set on each."""
    got: list[dict[str, Any]] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got, arrived
    finally:
        server.shutdown()
        server.server_close()


def test_a_packet_landing_in_the_queue_is_posted(
    make_governor, spec_factory, receiver, store
) -> None:
    url, got, arrived = receiver
    gov = make_governor(spec_factory({}, escalation={**ESCALATION, "notify": url}))
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure which queue")
    assert arrived.wait(5)
    [body] = got
    assert run.handoff is not None
    assert body["id"] == run.handoff.id and body["run_id"] == run.id
    assert (body["agent"], body["queue"], body["trigger"]) == (
        "test-agent",
        "tier1-humans",
        "manual",
    )
    assert body["reason"] == "not sure which queue"
    assert body["link"] == f"/queue#handoff-{run.handoff.id}"
    assert "tier1-humans" in body["text"]  # a Slack incoming webhook shows this


def test_a_dead_receiver_never_holds_up_the_run(make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}, escalation=ESCALATION))  # nothing listens on :1
    started = time.monotonic()
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure")
    assert time.monotonic() - started < 1.0
    assert run.status.value == "escalated"
    [notifier] = [h for h in gov.hooks if isinstance(h, HandoffNotifier)]
    notifier.wait()


def test_no_notify_no_hook_and_the_spec_hash_is_unchanged(spec_factory) -> None:
    plain = spec_factory({}, escalation={"queue": "tier1-humans"})
    explicit = spec_factory({}, escalation={"queue": "tier1-humans", "notify": None})
    assert plain.content_hash() == explicit.content_hash()
    with pytest.raises(ValueError, match="notify"):
        spec_factory({}, escalation={"queue": "q", "notify": "not a url"})


def test_send_reports_failures_without_raising() -> None:
    packet = Handoff(
        id="hof_1",
        run_id="r1",
        agent="a",
        queue="q",
        trigger="manual",
        reason="why",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    seen: list[httpx.Request] = []

    def answer(status: int) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(status)

        return httpx.MockTransport(handle)

    ok = HandoffNotifier("https://hooks.example/x", base_url="https://warden.example/")
    ok.transport = answer(200)
    assert ok.send(packet)
    assert json.loads(seen[0].content) == notice_of(packet, "https://warden.example")
    assert json.loads(seen[0].content)["link"] == "https://warden.example/queue#handoff-hof_1"
    failing = HandoffNotifier("https://hooks.example/x", transport=answer(500))
    assert not failing.send(packet)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert not HandoffNotifier("https://x.example", transport=httpx.MockTransport(refuse)).send(
        packet
    )
