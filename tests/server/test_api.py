"""Every router, and every role boundary: 401/403 are JSON and audited."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.telemetry.test_otlp_ingest import agent_spans
from warden.core.clock import SystemClock
from warden.core.events import EventAdapter, RunRecorded, ToolCallRecorded
from warden.core.runs import ApprovalRequest, RunRecord, RunStatus, ToolCallRecord, ToolCallStatus


def test_no_token_is_401_json_and_audited(api, store) -> None:
    r = api.client.get("/api/agents")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.required"
    r = api.client.get("/api/agents", headers={"Authorization": "Bearer wdn_nope_nope"})
    assert r.status_code == 401
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert len(denied) == 2
    assert denied[0].subject == "GET /api/agents"


def test_agents_runs_and_a_run_story(api, seeded) -> None:
    ids = seeded()
    agents = api.get("/api/agents").json()
    assert [a["agent"] for a in agents] == ["test-agent"]
    a = agents[0]
    assert a["owner"] == "alice@example.com"
    assert a["runs_today"] == 5
    assert a["health"] in ("red", "amber", "green")
    assert a["kill_switch"]["engaged"] is False
    detail = api.get("/api/agents/test-agent").json()
    assert detail["spec"]["spec"]["tools"]["issue_refund"]["access"] == "blocked"
    assert len(api.get("/api/agents/test-agent/daily?days=7").json()) == 7
    assert api.get("/api/agents/test-agent/readiness").json()["items"]
    assert len(api.get("/api/agents/test-agent/spec-versions").json()) == 1
    assert api.get("/api/agents/nobody").status_code == 404

    blocked = ids[-2]
    story = api.get(f"/api/runs/{blocked}").json()
    assert story["detail"]["run"]["status"] == "blocked"
    assert any("issue_refund is blocked for this agent" in line for line in story["story"])
    assert api.get("/api/runs/run_missing").status_code == 404


def test_run_list_filters_and_cursor_pagination(api, seeded) -> None:
    ids = seeded(resolved=7)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/api/runs?agent=test-agent&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == len(seen)  # no run twice across pages
    denied = api.get("/api/runs?denied_only=true").json()["items"]
    assert [r["id"] for r in denied] == [ids[-2]]
    assert [r["status"] for r in api.get("/api/runs?status=escalated").json()["items"]] == [
        "escalated"
    ]
    bad = api.get("/api/runs?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "config.invalid"
    assert api.get("/api/runs?limit=0").status_code == 422


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 403), ("reviewer", 403), ("operator", 200), ("admin", 200)]
)
def test_the_kill_switch_needs_operator(api, store, who: str, status: int) -> None:
    r = api.post("/api/agents/test-agent/kill", who, json={"reason": "refund spike"})
    assert r.status_code == status
    engaged = store.get_kill_switch("test-agent").engaged
    assert engaged is (status == 200)
    if status == 403:
        assert r.json()["error"]["code"] == "auth.forbidden"
        assert any(e.action == "api.denied" and e.actor == who for e in store.list_audit())
    else:
        assert store.get_kill_switch("test-agent").actor == who
        assert api.get("/api/agents/test-agent/kill-switch").json()["engaged"] is True
        asked = api.post("/api/agents/test-agent/unkill", who, json={"reason": "fixed"}).json()
        assert asked["state"]["engaged"] is True
        assert asked["pending"]["requested_by"] == who
        second = "admin" if who == "operator" else "operator"
        done = api.post("/api/agents/test-agent/unkill", second, json={"reason": "checked"}).json()
        assert done["state"]["engaged"] is False


def test_kill_switch_needs_a_reason(api) -> None:
    r = api.post("/api/agents/test-agent/kill", "operator", json={"reason": ""})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "request.invalid"


def test_approvals_need_reviewer_and_respect_agent_binding(api, store) -> None:
    from datetime import timedelta

    now = SystemClock().now()
    for i, agent in enumerate(["test-agent", "other-agent"]):
        store.create_approval(
            ApprovalRequest(
                id=f"apr_{i}",
                run_id="r",
                agent=agent,
                seq=1,
                tool="issue_refund",
                args_hash="h",
                rule="access",
                reason="why",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    assert len(api.get("/api/approvals").json()) == 2
    assert [a["id"] for a in api.get("/api/approvals", "router-bot").json()] == ["apr_0"]
    assert (
        api.post("/api/approvals/apr_0/approve", "viewer", json={"reason": "ok"}).status_code == 403
    )
    assert (
        api.post("/api/approvals/apr_1/approve", "router-bot", json={"reason": "ok"}).status_code
        == 403
    )
    ok = api.post("/api/approvals/apr_0/deny", "router-bot", json={"reason": "looks wrong"})
    assert ok.status_code == 200
    assert ok.json()["status"] == "denied"
    again = api.post("/api/approvals/apr_0/approve", "reviewer", json={"reason": "late"})
    assert again.status_code == 409
    assert (
        api.post("/api/approvals/apr_9/approve", "reviewer", json={"reason": "x"}).status_code
        == 404
    )


def _run_events(agent: str, run_id: str) -> list[dict[str, object]]:
    now = SystemClock().now()
    run = RunRecord(
        id=run_id,
        agent=agent,
        spec_hash="h",
        started_at=now,
        status=RunStatus.RESOLVED,
        ended_at=now,
    )
    call = ToolCallRecord(
        run_id=run_id,
        seq=1,
        tool="lookup_customer",
        status=ToolCallStatus.SUCCEEDED,
        started_at=now,
    )
    return [
        json.loads(EventAdapter.dump_json(RunRecorded(run=run))),
        json.loads(EventAdapter.dump_json(ToolCallRecorded(call=call))),
    ]


def test_an_agent_token_writes_only_its_own_runs(api, store) -> None:
    ok = api.post(
        "/api/agents/test-agent/events",
        "router-bot",
        json=_run_events("test-agent", "run_remote_1"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"accepted": 2, "runs": ["run_remote_1"]}
    assert store.get_run("run_remote_1").run.status is RunStatus.RESOLVED
    # Another agent's path, or another agent's run under its own path: refused.
    other = api.post(
        "/api/agents/other-agent/events", "router-bot", json=_run_events("other-agent", "run_x")
    )
    assert other.status_code == 403
    smuggled = api.post(
        "/api/agents/test-agent/events", "router-bot", json=_run_events("other-agent", "run_y")
    )
    assert smuggled.status_code == 400
    assert store.get_run("run_x") is None
    assert store.get_run("run_y") is None
    # A tool call for a run that is not this agent's.
    api.post(
        "/api/agents/other-agent/events", "other-bot", json=_run_events("other-agent", "run_z")
    )
    hijack = _run_events("test-agent", "run_z")[1:]
    assert api.post("/api/agents/test-agent/events", "router-bot", json=hijack).status_code == 400
    assert api.post("/api/agents/test-agent/events", "viewer", json=[]).status_code == 403


def test_otlp_ingest_protobuf_and_json(api, store, spec_factory) -> None:
    body = encode_spans(agent_spans()).SerializeToString()
    r = api.client.post(
        "/v1/traces",
        content=body,
        headers={**api.as_("router-bot"), "Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200
    response = ExportTraceServiceResponse()
    response.ParseFromString(r.content)
    assert response.partial_success.rejected_spans == 0
    (run,) = store.list_runs(
        __import__("warden.core.runs", fromlist=["RunFilter"]).RunFilter(agent="test-agent")
    )
    assert run.id.startswith("otel-")
    assert [c.tool for c in store.get_run(run.id).tool_calls] == [
        "search_web",
        "send_email",
        "issue_refund",
    ]
    # A token bound to another agent cannot write these traces.
    r2 = api.client.post(
        "/v1/traces",
        content=body,
        headers={**api.as_("other-bot"), "Content-Type": "application/x-protobuf"},
    )
    response.ParseFromString(r2.content)
    assert response.partial_success.rejected_spans == 1
    bad = api.client.post(
        "/v1/traces",
        content=b"{nope",
        headers={**api.as_("reviewer"), "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "otlp.invalid"


def test_tokens_are_admin_only_and_shown_once(api, store) -> None:
    assert api.get("/api/tokens", "owner").status_code == 403
    created = api.post("/api/tokens", "admin", json={"name": "ci", "role": "viewer"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("wdn_")
    listed = api.get("/api/tokens", "admin").json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert (
        api.client.get("/api/agents", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    api.client.delete(f"/api/tokens/{created.json()['id']}", headers=api.as_("admin"))
    assert (
        api.client.get("/api/agents", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_summary_audit_incidents_and_spec_changes(api, seeded, store) -> None:
    seeded()
    api.post("/api/agents/test-agent/kill", "operator", json={"reason": "drill"})
    s = api.get("/api/metrics/summary").json()
    assert s["agents"] == 1
    assert s["killed_agents"] == ["test-agent"]
    assert s["runs_today"] == 5
    entries = api.get("/api/audit?agent=test-agent").json()
    assert [e["action"] for e in entries][-1] == "kill_switch.engaged"
    assert api.get("/api/audit/verify").json()["intact"] is True
    assert api.get("/api/incidents").json() == []
    assert api.get("/api/spec-changes").json() == []
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_openapi_schema_is_published(api) -> None:
    schema = api.client.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in (
        "/api/agents",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/approvals",
        "/api/handoffs",
        "/api/agents/{agent}/kill",
        "/api/agents/{agent}/rollout",
        "/api/agents/{agent}/outcomes",
        "/api/incidents",
        "/api/audit",
        "/api/metrics/summary",
        "/v1/traces",
    ):
        assert path in paths, path
    kill = schema["paths"]["/api/agents/{agent}/kill"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "503"):
        assert kill[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_rollout_outcomes_and_gates_through_the_api(
    api, make_governor, spec_factory, store
) -> None:
    from tests.server.conftest import ROUTER_TOOLS

    spec = spec_factory(
        ROUTER_TOOLS, rollout={"shadow": {"min_runs": 50, "min_agreement": 0.8, "min_days": 1}}
    )
    gov = make_governor(spec, clock=SystemClock())

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> str:
        return queue

    with gov.run(input="my card", routing_key="cust-1") as run:
        assert run.mode.value == "shadow"
        run.call("route_ticket", ticket_id="t1", queue="cards")
        run.resolve()
    gov.flush()
    status = api.get("/api/agents/test-agent/rollout").json()
    assert status["stage"] == "shadow"
    gate = status["gate"]
    assert gate["status"] != "pass"
    checks = {c["name"]: c["status"] for c in gate["checks"]}
    assert "inconclusive" in checks.values()  # 0 of 50 compared runs: too few, holds
    outcome = api.post(
        "/api/agents/test-agent/outcomes",
        "reviewer",
        json={
            "key": "cust-1",
            "action": {"tool": "route_ticket", "arguments": {"ticket_id": "t1", "queue": "cards"}},
        },
    )
    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["agreed"] is True
    assert (
        api.post(
            "/api/agents/test-agent/outcomes", "viewer", json={"key": "cust-1", "action": None}
        ).status_code
        == 403
    )
    blocked = api.post(
        "/api/agents/test-agent/rollout/advance", "operator", json={"reason": "looks good"}
    )
    assert blocked.status_code == 409  # the gate does not pass on one run
    assert api.get("/api/agents/test-agent/rollout").json()["stage"] == "shadow"
    assert (
        api.post(
            "/api/agents/test-agent/rollout/rollback", "reviewer", json={"reason": "x"}
        ).status_code
        == 403
    )
    back = api.post(
        "/api/agents/test-agent/rollout/rollback", "operator", json={"reason": "bad proposals"}
    )
    assert back.status_code == 200
    assert back.json()["stage"] == "rolled_back"


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


@pytest.mark.parametrize("path", ["/api/runs?agent=%00", "/api/runs/run_%00", "/api/agents/a%00b"])
def test_a_nul_character_is_a_400_not_a_crash(api, path: str) -> None:
    r = api.get(path)
    assert r.status_code < 500  # PostgreSQL refuses NUL in text: a 400, never a 500
    assert r.json() is not None


def test_tool_calls_with_their_decisions(api, seeded) -> None:
    seeded()
    denied = api.get("/api/tool-calls?status=denied").json()
    assert [c["tool"] for c in denied] == ["issue_refund", "issue_refund"]
    assert all(c["decision"]["rule"] == "access" for c in denied)
    routed = api.get("/api/tool-calls?agent=test-agent&tool=route_ticket").json()
    assert len(routed) == 3
    assert api.get("/api/tool-calls?agent=nobody").json() == []
    assert api.get("/api/tool-calls?status=bogus").status_code == 422
