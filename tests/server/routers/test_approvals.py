"""``routers/approvals.py``: deciding needs a reviewer, an agent-bound token sees and decides
its own agent's requests only, a decided request cannot be decided again."""

from __future__ import annotations

from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest


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
    assert len(api.get("/api/approvals").json()["items"]) == 2
    assert [a["id"] for a in api.get("/api/approvals", "router-bot").json()["items"]] == ["apr_0"]
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
