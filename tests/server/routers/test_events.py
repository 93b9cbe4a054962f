"""``routers/events.py``: a token bound to an agent writes that agent's runs only."""

from __future__ import annotations

import json

from warden.core.clock import SystemClock
from warden.core.events import EventAdapter, RunRecorded, ToolCallRecorded
from warden.core.runs import RunRecord, RunStatus, ToolCallRecord, ToolCallStatus


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
    assert smuggled.status_code == 400  # the batch names another agent: malformed
    assert store.get_run("run_x") is None
    assert store.get_run("run_y") is None
    # A tool call for a run that is not this agent's.
    api.post(
        "/api/agents/other-agent/events", "other-bot", json=_run_events("other-agent", "run_z")
    )
    hijack = _run_events("test-agent", "run_z")[1:]
    assert api.post("/api/agents/test-agent/events", "router-bot", json=hijack).status_code == 403
    assert api.post("/api/agents/test-agent/events", "viewer", json=[]).status_code == 403


# -- issue "Authority": regression tests written against the broken behaviour ------------


def test_a_forged_run_record_cannot_claim_another_agents_run_id(api, store) -> None:
    """A batch holding a run record (agent = own) for another agent's run id wrote tool
    calls into that other agent's run."""
    api.post(
        "/api/agents/other-agent/events", "other-bot", json=_run_events("other-agent", "run_o")
    )
    before = store.get_run("run_o")
    forged = _run_events("test-agent", "run_o")  # claims run_o for test-agent
    r = api.post("/api/agents/test-agent/events", "agent", json=forged)
    assert r.status_code == 403
    after = store.get_run("run_o")
    assert after is not None and before is not None
    assert after.run.agent == "other-agent"
    assert after.tool_calls == before.tool_calls
    denied = [e for e in store.list_audit(agent="test-agent") if e.action == "api.denied"]
    assert denied, "the refusal is in the audit log"


def test_an_agent_cannot_rewrite_its_own_denied_call_as_allowed(api, store) -> None:
    events = _run_events("test-agent", "run_d")
    ended = events[1]["call"]["started_at"]
    events[1]["call"] |= {
        "status": "denied",
        "ended_at": ended,
        "decision": {"verdict": "deny", "rule": "access", "reason": "blocked for this agent"},
    }
    assert api.post("/api/agents/test-agent/events", "agent", json=events).status_code == 200
    rewrite = _run_events("test-agent", "run_d")[1:]  # the same call, now 'succeeded'
    rewrite[0]["call"]["ended_at"] = ended
    api.post("/api/agents/test-agent/events", "agent", json=rewrite)
    [call] = store.get_run("run_d").tool_calls
    assert call.status.value == "denied"
    assert call.decision is not None and call.decision.verdict.value == "deny"
