"""Tool sets shared by the end-to-end runtime tests (through a governor)."""

from __future__ import annotations

from typing import Any


def router_tools() -> dict[str, Any]:
    """The ticket router's tools: a read, an idempotent write with an enum, a blocked one."""
    return {
        "lookup_customer": {"access": "read"},
        "route_ticket": {
            "access": "write",
            "idempotent": True,
            "arguments": {"queue": {"enum": ["card_arrival", "refund_not_showing_up"]}},
        },
        "issue_refund": {"access": "blocked"},
    }
