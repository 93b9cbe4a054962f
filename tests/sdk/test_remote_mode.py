"""Remote SDK mode: Warden.open(spec, url=..., token=...) records to a Warden server with
the same interceptors; when the server is down, writes fail closed and records spool to
disk, then replay when it is back: nothing is lost."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn

from warden import Warden
from warden.core.clock import SystemClock
from warden.core.runs import RunFilter, RunStatus, ToolCallStatus
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.errors import KillSwitchEngaged
from warden.server import create_app

TOOLS = {
    "lookup_customer": {"access": "read"},
    "route_ticket": {"access": "write", "idempotent": True},
    "issue_refund": {"access": "blocked"},
}


class LiveServer:
    def __init__(self, store) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.store = store
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.store), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(store) -> Iterator[LiveServer]:
    live = LiveServer(store)
    live.start()
    yield live
    if live.server is not None and not live.server.should_exit:
        live.stop()


@pytest.fixture
def agent_token(store) -> Callable[[str], str]:
    def make(agent: str) -> str:
        token_id, secret = new_token()
        store.create_token(
            ApiToken(
                id=token_id,
                name=f"agent:{agent}",
                role=Role.AGENT,
                agent=agent,
                token_hash=hash_token(secret),
                created_at=SystemClock().now(),
                created_by="t",
            )
        )
        return secret

    return make


def _open(spec, server, token, tmp_path) -> Warden:
    wd = Warden.open(
        spec,
        url=server.url,
        token=token,
        tracing=False,
        spool_dir=tmp_path / "spool",
        flush_interval_s=0.02,
        kill_switch_ttl_s=0.05,
    )

    @wd.tool
    def lookup_customer(customer_id: str) -> dict[str, str]:
        return {"id": customer_id, "tier": "gold"}

    @wd.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        routed.append(ticket_id)
        return queue

    @wd.tool
    def issue_refund(amount: float) -> None:
        raise AssertionError("blocked")

    return wd


routed: list[str] = []


def test_runs_reach_the_server_with_their_decisions(
    server, agent_token, spec_factory, store, tmp_path
) -> None:
    spec = spec_factory(TOOLS)
    wd = _open(spec, server, agent_token(spec.name), tmp_path)
    with wd.run(input="card not arrived", routing_key="c-1") as run:
        run.call("lookup_customer", customer_id="c-1")
        run.call("route_ticket", ticket_id="t-1", queue="cards")
        run.call("issue_refund", amount=5)
    wd.close()
    assert run.status is RunStatus.BLOCKED
    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.status is RunStatus.BLOCKED
    assert [(c.tool, c.status) for c in detail.tool_calls] == [
        ("lookup_customer", ToolCallStatus.SUCCEEDED),
        ("route_ticket", ToolCallStatus.SUCCEEDED),
        ("issue_refund", ToolCallStatus.DENIED),
    ]
    assert store.get_spec_version(spec.name, spec.content_hash()) is not None


def test_the_kill_switch_on_the_server_stops_a_remote_agent(
    server, agent_token, spec_factory, store, tmp_path
) -> None:
    spec = spec_factory(TOOLS)
    wd = _open(spec, server, agent_token(spec.name), tmp_path)
    with pytest.raises(KillSwitchEngaged), wd.run(input="x") as run:
        run.call("lookup_customer", customer_id="c-1")
        store.set_kill_switch(
            spec.name, engaged=True, reason="incident", actor="oncall", at=SystemClock().now()
        )
        time.sleep(0.1)  # past the TTL
        run.call("lookup_customer", customer_id="c-2")
    wd.close()
    assert store.get_run(run.id).run.status is RunStatus.KILLED


def test_server_down_fails_writes_closed_and_loses_nothing(
    server, agent_token, spec_factory, store, tmp_path
) -> None:
    spec = spec_factory(TOOLS, escalation={"queue": "tier1-humans", "on": []})
    wd = _open(spec, server, agent_token(spec.name), tmp_path)
    routed.clear()
    with wd.run(input="first") as first:
        run_id = first.id
        first.call("lookup_customer", customer_id="c-1")
        server.stop()  # the server goes away mid-run
        assert first.call("lookup_customer", customer_id="c-2") == {
            "id": "c-2",
            "tier": "gold",
        }  # reads go on
        first.call("route_ticket", ticket_id="t-9", queue="cards")  # a write: fails closed
    assert routed == []
    assert first.status is RunStatus.FAILED
    assert first.error_code == "store.unavailable"
    time.sleep(0.1)
    assert list((tmp_path / "spool").glob("spool-*.jsonl")), "records must be spooled to disk"
    server.start()  # back on the same port
    wd.flush()  # replays the spool first
    wd.close()
    detail = store.get_run(run_id)
    assert detail is not None
    assert detail.run.status is RunStatus.FAILED
    assert [c.tool for c in detail.tool_calls] == [
        "lookup_customer",
        "lookup_customer",
        "route_ticket",
    ]
    assert detail.tool_calls[2].status is ToolCallStatus.NOT_RUN
    assert not list((tmp_path / "spool").glob("spool-*.jsonl"))


def test_a_token_of_another_agent_is_refused(
    server, agent_token, spec_factory, store, tmp_path
) -> None:
    from warden.errors import ConfigError

    spec = spec_factory(TOOLS)
    with pytest.raises(ConfigError, match="bound to agent someone-else"):
        Warden.open(
            spec,
            url=server.url,
            token=agent_token("someone-else"),
            tracing=False,
            spool_dir=tmp_path / "spool",
            flush_interval_s=0.02,
        )
    assert store.list_runs(RunFilter(agent=spec.name)) == []
    with pytest.raises(ConfigError, match="needs a token"):
        Warden.open(spec, url=server.url, tracing=False, spool_dir=tmp_path / "spool")
