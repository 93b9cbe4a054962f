"""Shared by the server tests: an API client per role over the test store (``api``), an
agent with some runs (``seeded``), and for the dashboard the demo data (``demo``) with a
browser-like client (``pages``) and helpers to read its HTML tables."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.demo import Demo, make_tokens, seed_demo
from warden import PolicyDenied
from warden.core.clock import SystemClock
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.server import create_app
from warden.store import SqlStore

ROUTER_TOOLS = {
    "lookup_customer": {"access": "read"},
    "route_ticket": {
        "access": "write",
        "idempotent": True,
        "arguments": {"queue": {"enum": ["cards", "refunds"]}},
    },
    "issue_refund": {"access": "blocked"},
}


class Api:
    """A TestClient plus a bearer token per role."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str = "viewer", **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(who), **kw)

    def post(self, path: str, who: str = "viewer", **kw: Any) -> Any:
        return self.client.post(path, headers=self.as_(who), **kw)


@pytest.fixture
def api(store) -> Iterator[Api]:
    tokens: dict[str, str] = {}
    clock = SystemClock()

    def make(name: str, role: Role, agent: str | None = None) -> None:
        token_id, secret = new_token()
        store.create_token(
            ApiToken(
                id=token_id,
                name=name,
                role=role,
                agent=agent,
                token_hash=hash_token(secret),
                created_at=clock.now(),
                created_by="test",
            )
        )
        tokens[name] = secret

    for role in Role:
        make(role.value, role, agent="test-agent" if role is Role.AGENT else None)
    make("router-bot", Role.REVIEWER, agent="test-agent")  # a person bound to one agent
    make("other-bot", Role.REVIEWER, agent="other-agent")
    with TestClient(create_app(store, clock=clock)) as client:
        yield Api(client, tokens)


@pytest.fixture
def seeded(make_governor, spec_factory) -> Callable[..., list[str]]:
    """Record a few runs of ``test-agent``: resolved, blocked (a denied refund), escalated."""

    def seed(resolved: int = 3) -> list[str]:
        gov = make_governor(spec_factory(ROUTER_TOOLS), clock=SystemClock())

        @gov.tool
        def lookup_customer(customer_id: str) -> dict[str, str]:
            return {"id": customer_id}

        @gov.tool
        def route_ticket(ticket_id: str, queue: str) -> str:
            return queue

        ids: list[str] = []
        for i in range(resolved):
            with gov.run(input=f"ticket {i}", routing_key=f"c{i}") as run:
                run.call("lookup_customer", customer_id=f"c{i}")
                run.call("route_ticket", ticket_id=f"t{i}", queue="cards")
                run.resolve(output="cards")
            ids.append(run.id)
        with gov.run(input="refund me 50") as run:
            with contextlib.suppress(PolicyDenied):
                run.call("issue_refund", amount=50)
            run.call("issue_refund", amount=50)
        ids.append(run.id)
        with gov.run(input="weird") as run:
            run.escalate("not sure")
        ids.append(run.id)
        gov.flush()
        return ids

    return seed


# -- the dashboard ---------------------------------------------------------------------------


class Pages:
    """A browser-like client: a cookie jar, a signed-in token, and forms with their CSRF token."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def as_(self, who: str | None) -> Pages:
        self.client.cookies.delete("warden_token")
        if who is not None:
            self.client.cookies.set("warden_token", self.tokens[who])
        return self

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def text(self, path: str) -> str:
        r = self.client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return html.unescape(r.text)

    def csrf(self) -> str:
        if not self.client.cookies.get("warden_csrf"):
            self.client.get("/login")  # any page sets it
        token = self.client.cookies.get("warden_csrf")
        assert token
        return token

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True, **kw: Any) -> Any:
        body = {"csrf": self.csrf(), **data} if csrf else data
        return self.client.post(path, data=body, follow_redirects=False, **kw)


@pytest.fixture
def demo(store: SqlStore, make_governor) -> Demo:
    return seed_demo(store, make_governor)


@pytest.fixture
def pages(store: SqlStore, demo: Demo) -> Iterator[Pages]:
    tokens = make_tokens(store, demo.clock)
    with TestClient(create_app(store, clock=demo.clock)) as client:
        yield Pages(client, tokens)


def run_ids(rows: list[str]) -> set[str]:
    """The run ids of table rows (their ``data-run`` attributes)."""
    return {m.group(1) for r in rows if (m := re.search(r'data-run="([^"]+)"', r))}


def table_rows(page: str, table: str = "runs") -> list[str]:
    """The body rows of the page's ``<table class="{table}">``, as HTML."""
    body = page.split(f'<table class="{table}">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body.split("<tbody>", 1)[1], re.S)
