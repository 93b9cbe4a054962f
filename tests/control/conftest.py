"""Shared by the control tests: ``gov``, a governed ticket router with a rollout plan (a
read tool and an idempotent write tool), whose runs outcomes and handoffs are recorded for."""

from __future__ import annotations

from typing import Any

import pytest

TICKET_TOOLS: dict[str, Any] = {
    "lookup_customer": {"access": "read"},
    "route_ticket": {"access": "write", "idempotent": True},
}


@pytest.fixture
def gov(make_governor, spec_factory):
    g = make_governor(spec_factory(TICKET_TOOLS, rollout={}))

    @g.tool
    def lookup_customer(customer_id: str) -> str:
        return "gold"

    @g.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return "ok"

    return g
