"""``server/http_limits.py``: a client that trickles its request head is cut off; one that
sends it in time is served, on a fresh connection and on a kept-alive one; ``warden serve``
runs uvicorn with these limits."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from warden.server.http_limits import with_header_timeout

LIMIT_S = 0.4


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=free,
        http=with_header_timeout(LIMIT_S),
        log_level="error",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(10)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes ``sock`` within ``seconds`` (reading what it sends)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_trickled_request_head_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        assert _closed_within(sock, 5)
        assert time.monotonic() - started < 3


def test_a_silent_connection_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert _closed_within(sock, 5)


def test_a_prompt_request_is_served_and_the_next_one_on_the_connection_too(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = b""
            while not reply.endswith(b"ok"):
                reply += sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"ok")
            time.sleep(LIMIT_S * 1.5)  # longer than the limit, between requests: allowed
        sock.sendall(b"GET / HTTP/1.1\r\n")  # a third head, trickled
        assert _closed_within(sock, 5)


def test_warden_serve_runs_uvicorn_with_the_limits(monkeypatch, tmp_path) -> None:
    from typer.testing import CliRunner

    from warden.cli.main import app
    from warden.store import SqlStore

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    url = f"sqlite:///{tmp_path / 'w.db'}"
    SqlStore(url).close()
    result = CliRunner().invoke(
        app, ["serve", "--database-url", url, "--max-concurrency", "8", "--header-timeout", "3"]
    )
    assert result.exit_code == 0, result.output
    assert seen["limit_concurrency"] == 8
    assert seen["http"].header_timeout_s == 3.0
    assert seen["h11_max_incomplete_event_size"] == 16 * 1024
