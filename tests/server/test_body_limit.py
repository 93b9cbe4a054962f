"""``body_limit``: request bodies are bounded on every endpoint (issue "Authority": 100 MB
posted to ``/api/agents/A/events`` was read in full, RSS +200 MB, before a 422)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from warden.server import create_app

LIMIT = 64 * 1024


@pytest.fixture
def small(store, api) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=LIMIT)) as client:
        client.headers.update(api.as_("agent"))
        yield client


@pytest.mark.parametrize(
    "path", ["/api/agents/test-agent/events", "/api/rpc/apply", "/v1/traces", "/api/tokens"]
)
def test_a_declared_body_over_the_limit_is_413_json(small: TestClient, path: str) -> None:
    r = small.post(path, content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["message"].startswith("the request body is over")


def test_a_streamed_body_is_cut_off_at_the_limit(store, api) -> None:
    """Driven as ASGI (a test client would buffer the whole body before sending it)."""
    import asyncio

    app = create_app(store, max_body_bytes=LIMIT)
    chunk = 16 * 1024
    offered = 100 * 1024 * 1024 // chunk  # 100 MB, chunked, no Content-Length
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * chunk, "more_body": pulled < offered}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/agents/test-agent/events",
        "raw_path": b"/api/agents/test-agent/events",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", api.as_("agent")["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8700),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert pulled * chunk <= LIMIT + chunk  # it stopped reading at the limit


def test_a_body_under_the_limit_is_served(small: TestClient) -> None:
    r = small.post("/api/agents/test-agent/events", json=[])
    assert r.status_code == 200
