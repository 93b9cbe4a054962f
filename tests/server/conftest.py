"""An API client per role over the test store, and an agent with some runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from warden import PolicyDenied
from warden.core.clock import SystemClock
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.server import create_app

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
        make(role.value, role)
    make("router-bot", Role.REVIEWER, agent="test-agent")
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
