"""An agent's own token never governs Warden (issue "Authority").

Regression tests written against the behaviour found: an agent-bound token approved its
own approval requests, moved its rollout from shadow to live through ``/api/rpc``, and
rewrote its own runs. An agent token (role ``agent``) now reaches the runtime port and its
own runs' records only: every other route that changes state answers 403, audited.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest, ApprovalStatus
from warden.server import create_app

# What an agent's process needs, and nothing else.
AGENT_ROUTES = {
    ("POST", "/api/agents/{agent}/events"),
    ("POST", "/api/rpc/{method}"),
    ("POST", "/v1/traces"),
}


def _state_changing_routes(store) -> list[tuple[str, str]]:
    """Every documented route that is not a read (the OpenAPI schema is the API)."""
    paths = create_app(store).openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method.upper() not in ("GET", "HEAD", "OPTIONS")
    )


def _pending_approval(store, agent: str = "test-agent") -> str:
    now = SystemClock().now()
    store.create_approval(
        ApprovalRequest(
            id="apr_own",
            run_id="r",
            agent=agent,
            seq=1,
            tool="issue_refund",
            args_hash="h",
            rule="approval",
            reason="a person approves refunds",
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    return "apr_own"


def test_an_agent_token_cannot_approve_its_own_request(api, store) -> None:
    approval = _pending_approval(store)
    r = api.post(f"/api/approvals/{approval}/approve", "agent", json={"reason": "me"})
    assert r.status_code == 403
    assert store.get_approval(approval).status is ApprovalStatus.PENDING
    rpc = {
        "approval_id": approval,
        "status": "approved",
        "actor": "a person",
        "reason": "me",
        "at": SystemClock().now().isoformat(),
    }
    assert api.post("/api/rpc/decide_approval", "agent", json={"args": rpc}).status_code == 403
    assert store.get_approval(approval).status is ApprovalStatus.PENDING
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert len(denied) >= 2


def test_an_agent_token_cannot_change_its_stage_through_any_route(
    api, store, make_governor, spec_factory
) -> None:
    gov = make_governor(spec_factory({"lookup": {"access": "read"}}, rollout={}))
    state = store.get_rollout(gov.spec.name)
    assert state is not None and state.stage.value == "shadow"
    agent = gov.spec.name
    for action in ("advance", "rollback"):
        r = api.post(f"/api/agents/{agent}/rollout/{action}", "agent", json={"reason": "go"})
        assert r.status_code == 403, action
    moved = {"args": {"state": state.model_dump(mode="json") | {"stage": "live"}}}
    assert api.post("/api/rpc/save_rollout", "agent", json=moved).status_code in (403, 404)
    assert store.get_rollout(agent).stage.value == "shadow"


@pytest.mark.parametrize("who", ["agent"])
def test_every_other_state_changing_route_refuses_an_agent_token(api, store, who) -> None:
    routes = _state_changing_routes(store)
    assert len(routes) > len(AGENT_ROUTES)  # the sweep sees the real routes
    before = len(store.list_audit())
    refused = 0
    for method, path in routes:
        if (method, path) in AGENT_ROUTES:
            continue
        url = (
            path.replace("{agent}", "test-agent")
            .replace("{approval_id}", "apr_x")
            .replace("{incident_id}", "inc_x")
            .replace("{change_id}", "chg_x")
            .replace("{token_id}", "t_x")
            .replace("{ref}", "x")
        )
        r = api.client.request(method, url, headers=api.as_(who), json={"reason": "x"})
        assert r.status_code in (401, 403), (method, path, r.status_code)
        refused += 1
    assert refused > 0
    # every refusal is audited; nothing else was written
    after = store.list_audit()[before:]
    assert {e.action for e in after} <= {"api.denied"}
