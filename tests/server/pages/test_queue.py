"""``pages/queue.py``: the review queue, and approving or denying a waiting call (reviewer
role, a reason, audited) so that the waiting run goes on."""

from __future__ import annotations

import html
import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import Pages
from tests.server.demo import Demo, make_tokens
from warden.core.clock import SystemClock
from warden.core.runs import ApprovalStatus, RunStatus
from warden.server import create_app
from warden.store import SqlStore


def test_queue_shows_waiting_calls_and_handoff_packets(pages: Pages, demo: Demo) -> None:
    page = pages.as_("reviewer").text("/queue")
    assert f'id="approval-{demo.approval}"' in page
    assert "issue_refund needs a person's approval when amount > 100 (here 180)." in page
    assert "The blender arrived broken." in page  # the task
    assert 'lookup_order(order="o-7781") ran and succeeded' in page  # what it did before
    assert 'name="decision" value="approve"' in page
    assert "Runs handed to people" in page and "tier1-humans queue" in page
    assert "The agent was not confident enough." in page
    viewer = pages.as_("viewer").text("/queue")
    assert 'value="approve"' not in viewer and "needs the reviewer role" in viewer


def test_reviewer_approves_and_denies_with_a_reason(
    pages: Pages, demo: Demo, store: SqlStore
) -> None:
    r = pages.as_("viewer").post(
        f"/approvals/{demo.approval}", {"decision": "approve", "reason": "ok"}
    )
    assert r.status_code == 403 and "you need the reviewer role" in html.unescape(r.text)
    assert store.get_approval(demo.approval).status is ApprovalStatus.PENDING  # type: ignore[union-attr]
    pages.as_("reviewer")
    r = pages.post(f"/approvals/{demo.approval}", {"decision": "approve", "reason": ""})
    assert r.status_code == 400 and "Say why" in r.text
    r = pages.post(
        f"/approvals/{demo.approval}", {"decision": "approve", "reason": "receipt checked"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/queue?done=approved"
    decided = store.get_approval(demo.approval)
    assert decided is not None and decided.status is ApprovalStatus.APPROVED
    assert decided.decided_by == "reviewer" and decided.decision_reason == "receipt checked"
    entry = store.list_audit(agent="refund-helper")[-1]
    assert entry.action == "approval.approved" and entry.subject == demo.approval
    assert "Approved." in pages.text("/queue?done=approved")
    again = pages.post(f"/approvals/{demo.approval}", {"decision": "deny", "reason": "no"})
    assert again.status_code == 409 and "already approved" in again.text
    assert (
        pages.post("/approvals/apr_nope", {"decision": "deny", "reason": "no"}).status_code == 404
    )


def test_an_approval_from_the_dashboard_lets_the_waiting_run_go_on(
    store: SqlStore, make_governor, spec_factory
) -> None:
    clock = SystemClock()
    tokens = make_tokens(store, clock)  # type: ignore[arg-type]
    spec = spec_factory({"pay": {"access": "approval", "arguments": {"amount": {"max": 500}}}})
    gov = make_governor(spec, clock=clock, approval_poll_s=0.02)

    @gov.tool
    def pay(amount: float) -> str:
        return f"paid {amount}"

    outcome: dict[str, Any] = {}

    def agent() -> None:
        with gov.run(input="pay the invoice") as run:
            outcome["result"] = run.call("pay", amount=120.0)
            run.resolve(output=outcome["result"])
        outcome["run"] = run

    worker = threading.Thread(target=agent)
    worker.start()
    try:
        with TestClient(create_app(store, clock=clock)) as client:
            pages = Pages(client, tokens).as_("reviewer")
            for _ in range(500):
                pending = store.list_approvals(ApprovalStatus.PENDING)
                if pending:
                    break
                threading.Event().wait(0.01)
            assert pending, "the run never asked for approval"
            assert pending[0].id in pages.text("/queue")
            r = pages.post(
                f"/approvals/{pending[0].id}", {"decision": "approve", "reason": "invoice ok"}
            )
            assert r.status_code == 303
    finally:
        worker.join(timeout=20)
    assert outcome["result"] == "paid 120.0"
    assert outcome["run"].status is RunStatus.RESOLVED


def test_reviewer_claims_then_resolves_a_handoff_through_the_form(
    pages: Pages, demo: Demo, store: SqlStore
) -> None:
    packet = store.list_handoffs(status="open")[0]
    form = f"/handoffs/{packet.id}"
    page = pages.as_("reviewer").text("/queue")
    assert f'action="{form}"' in page and 'value="claim"' in page
    assert "needs the reviewer role" in pages.as_("viewer").text("/queue")
    r = pages.as_("viewer").post(form, {"decision": "claim"})
    assert r.status_code == 403
    r = pages.post(form, {"decision": "claim"}, csrf=False)
    assert r.status_code in (400, 403)
    pages.as_("reviewer")
    r = pages.post(form, {"decision": "claim"})
    assert r.status_code == 303 and r.headers["location"].startswith("/queue?done=claimed")
    claimed = pages.text("/queue?done=claimed")
    assert "Claimed." in claimed and "Runs people are working on" in claimed
    assert "claimed by reviewer" in claimed
    r = pages.post(form, {"decision": "resolve", "reason": ""})
    assert r.status_code == 400 and "Say what you did" in r.text
    r = pages.post(
        form, {"decision": "resolve", "reason": "refunded", "action": '{"arguments": {}}'}
    )
    assert r.status_code == 400 and "not an action" in html.unescape(r.text)
    r = pages.post(
        form,
        {"decision": "resolve", "reason": "refunded by hand", "action": "issue_refund"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/queue?done=resolved")
    done = store.get_handoff(packet.id)
    assert done is not None and (done.status, done.resolved_by, done.note) == (
        "resolved",
        "reviewer",
        "refunded by hand",
    )
    outcome = store.get_outcome(packet.run_id)
    assert outcome is not None and [a.tool for a in outcome.human] == ["issue_refund"]
    assert f'id="handoff-{packet.id}"' not in pages.text("/queue")
    again = pages.post(form, {"decision": "resolve", "reason": "again"})
    assert again.status_code == 409 and "resolved" in again.text
    assert pages.post("/handoffs/hof_nope", {"decision": "claim"}).status_code == 404
