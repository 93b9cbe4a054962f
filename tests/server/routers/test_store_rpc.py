"""``routers/store_rpc.py``: ``/api/rpc`` serves only what an agent's runtime needs, each
method checked against an agent-bound token."""

from __future__ import annotations

from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest


def test_store_rpc_exposes_only_what_an_agent_runtime_needs(api, store) -> None:
    from datetime import timedelta

    now = SystemClock().now()
    store.create_approval(
        ApprovalRequest(
            id="apr_r",
            run_id="r",
            agent="test-agent",
            seq=1,
            tool="issue_refund",
            args_hash="h",
            rule="access",
            reason="why",
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    ks = api.post("/api/rpc/get_kill_switch", "router-bot", json={"args": {"agent": "test-agent"}})
    assert ks.status_code == 200
    assert ks.json()["result"]["engaged"] is False
    assert (
        api.post(
            "/api/rpc/get_kill_switch", "router-bot", json={"args": {"agent": "other-agent"}}
        ).status_code
        == 403
    )
    # An agent cannot approve its own request, nor flip its kill switch, nor read the audit log.
    approve = {
        "args": {
            "approval_id": "apr_r",
            "status": "approved",
            "actor": "bot",
            "reason": "me",
            "at": now.isoformat(),
        }
    }
    assert api.post("/api/rpc/decide_approval", "router-bot", json=approve).status_code == 403
    assert api.post("/api/rpc/set_kill_switch", "router-bot", json={"args": {}}).status_code == 404
    assert api.post("/api/rpc/list_audit", "router-bot", json={"args": {}}).status_code == 404
    assert (
        api.post("/api/rpc/get_kill_switch", "viewer", json={"args": {"agent": "x"}}).status_code
        == 403
    )
    bad = api.post("/api/rpc/get_kill_switch", "router-bot", json={"args": {"agnt": "test-agent"}})
    assert bad.status_code == 400
    expire = {
        "args": {
            "approval_id": "apr_r",
            "status": "expired",
            "actor": "warden",
            "reason": "timeout",
            "at": now.isoformat(),
        }
    }
    assert (
        api.post("/api/rpc/decide_approval", "router-bot", json=expire).json()["result"]["status"]
        == "expired"
    )


def test_the_rpc_surface_is_the_runtime_port_and_nothing_else(api) -> None:
    from warden.core.ports import ControlStore, RuntimeStore
    from warden.server.routers.store_rpc import CHECKS, EXPOSED
    from warden.store.remote import LOCAL_METHODS

    port = {n for n, m in vars(RuntimeStore).items() if callable(m) and not n.startswith("_")}
    assert port - LOCAL_METHODS == EXPOSED == set(CHECKS)
    control = {n for n, m in vars(ControlStore).items() if callable(m) and not n.startswith("_")}
    for method in sorted(control | LOCAL_METHODS):  # save_rollout, set_kill_switch, ...
        r = api.post(f"/api/rpc/{method}", "router-bot", json={"args": {}})
        assert r.status_code == 404, method


def test_an_agent_enrolls_its_own_version_only(api, store) -> None:
    from warden.core.runs import SpecVersion

    now = SystemClock().now()
    mine = SpecVersion(agent="test-agent", content_hash="h1", version="1", spec={}, created_at=now)
    other = mine.model_copy(update={"agent": "other-agent"})
    body = {"has_plan": True, "at": now.isoformat()}
    ok = api.post(
        "/api/rpc/enroll_version",
        "router-bot",
        json={"args": {"version": mine.model_dump(mode="json"), **body}},
    )
    assert ok.status_code == 200
    assert ok.json()["result"]["stage"] == "shadow"
    refused = api.post(
        "/api/rpc/enroll_version",
        "router-bot",
        json={"args": {"version": other.model_dump(mode="json"), **body}},
    )
    assert refused.status_code == 403
    assert store.get_rollout("other-agent") is None


def test_an_agent_reads_the_taint_of_its_own_routing_keys_only(api) -> None:
    args = {"routing_key": "t-1", "tools": ["fetch_page"], "since": "2026-01-01T00:00:00Z"}
    mine = api.post(
        "/api/rpc/untrusted_reads", "agent", json={"args": {"agent": "test-agent", **args}}
    )
    assert mine.status_code == 200 and mine.json()["result"] == []
    other = api.post(
        "/api/rpc/untrusted_reads", "agent", json={"args": {"agent": "other-agent", **args}}
    )
    assert other.status_code == 403
