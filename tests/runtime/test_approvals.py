"""Approval-gated calls wait for a person; the decision is bound to the exact arguments."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from warden import ApprovalDenied, KillSwitchEngaged, RunStatus, ToolCallStatus
from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest, ApprovalStatus

REFUND_TOOLS = {
    "issue_refund": {
        "access": "write",
        "approval_when": "amount > 100",
        "arguments": {"amount": {"min": 0, "max": 5000}},
    },
    "close_account": {"access": "approval"},
}


def _in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _pending(store, timeout_s: float = 5.0) -> ApprovalRequest:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pending = store.list_approvals(ApprovalStatus.PENDING)
        if pending:
            return pending[0]
        time.sleep(0.01)
    raise AssertionError("no approval request appeared")


def _refund_governor(make_governor, spec_factory, **options: Any):
    options.setdefault("clock", SystemClock())
    gov = make_governor(
        spec_factory(REFUND_TOOLS, escalation={"queue": "tier1-humans", "on": []}), **options
    )
    refunds: list[float] = []

    @gov.tool
    def issue_refund(amount: float) -> str:
        refunds.append(amount)
        return f"refunded {amount}"

    return gov, refunds


def test_small_refund_runs_without_approval(make_governor, spec_factory) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)
    with gov.run(input="refund 20") as run:
        run.call("issue_refund", amount=20)
        run.resolve()
    assert refunds == [20]


def test_approved_call_waits_then_runs(make_governor, spec_factory, store) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)
    results: list[Any] = []

    def agent() -> None:
        with gov.run(input="refund 250") as run:
            results.append(run.call("issue_refund", amount=250))
            run.resolve()
        results.append(run)

    thread = _in_thread(agent)
    request = _pending(store)
    assert request.tool == "issue_refund"
    assert request.arguments == {"amount": 250}
    assert request.rule == "conditional_approval"
    time.sleep(0.1)
    assert refunds == []  # still waiting: nothing executed before the decision
    store.decide_approval(
        request.id,
        status=ApprovalStatus.APPROVED,
        actor="carol",
        reason="verified",
        at=SystemClock().now(),
    )
    thread.join(5)
    assert refunds == [250]
    assert results[0] == "refunded 250.0"
    run = results[1]
    assert run.status is RunStatus.RESOLVED
    gov.flush()
    (call,) = store.get_run(run.id).tool_calls
    assert call.status is ToolCallStatus.SUCCEEDED
    assert call.approval_id == request.id
    assert "approved" in call.decision.reason


def test_denied_call_never_runs(make_governor, spec_factory, store) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)
    errors: list[BaseException] = []
    runs: list[Any] = []

    def agent() -> None:
        with gov.run(input="refund 900") as run:
            try:
                run.call("issue_refund", amount=900)
            except ApprovalDenied as exc:
                errors.append(exc)
                raise
        runs.append(run)

    thread = _in_thread(agent)
    request = _pending(store)
    store.decide_approval(
        request.id,
        status=ApprovalStatus.DENIED,
        actor="carol",
        reason="looks like fraud",
        at=SystemClock().now(),
    )
    thread.join(5)
    assert refunds == []
    assert "looks like fraud" in errors[0].reason
    assert runs[0].status is RunStatus.BLOCKED
    gov.flush()
    assert store.get_run(runs[0].id).tool_calls[0].status is ToolCallStatus.DENIED


def test_approval_is_bound_to_the_arguments(make_governor, spec_factory, store) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)

    def agent() -> None:
        with gov.run(input="refunds") as run:
            run.call("issue_refund", amount=300)
            run.call("issue_refund", amount=301)  # a new amount needs a new approval
            run.resolve()

    thread = _in_thread(agent)
    first = _pending(store)
    store.decide_approval(
        first.id, status=ApprovalStatus.APPROVED, actor="c", reason="ok", at=SystemClock().now()
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pending = store.list_approvals(ApprovalStatus.PENDING)
        if pending:
            break
        time.sleep(0.01)
    assert pending[0].id != first.id
    assert pending[0].arguments == {"amount": 301}
    assert pending[0].args_hash != first.args_hash
    assert refunds == [300]
    store.decide_approval(
        pending[0].id, status=ApprovalStatus.DENIED, actor="c", reason="no", at=SystemClock().now()
    )
    thread.join(5)
    assert refunds == [300]


def test_unanswered_approval_times_out_and_escalates(
    make_governor, spec_factory, store, clock
) -> None:
    spec = spec_factory(REFUND_TOOLS, policy={"approval_timeout_s": 600})
    gov = make_governor(
        spec, clock=clock, approval_poll_s=30
    )  # fake clock: each poll advances it 30 s

    @gov.tool
    def close_account(account_id: str) -> None:
        raise AssertionError("never approved")

    with gov.run(input="close my account") as run:
        run.call("close_account", account_id="acc-1")
    assert run.status is RunStatus.ESCALATED
    gov.flush()
    (request,) = store.list_approvals(None)
    assert request.status is ApprovalStatus.EXPIRED
    (handoff,) = store.list_handoffs()
    assert handoff.trigger == "approval_timeout"


def test_kill_switch_preempts_an_approval_wait(make_governor, spec_factory, store) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)
    runs: list[Any] = []
    signals: list[BaseException] = []

    def agent() -> None:
        try:
            with gov.run(input="refund 500") as run:
                runs.append(run)
                run.call("issue_refund", amount=500)
        except KillSwitchEngaged as exc:
            signals.append(exc)

    thread = _in_thread(agent)
    request = _pending(store)
    t0 = time.monotonic()
    store.set_kill_switch(
        "test-agent", engaged=True, reason="incident 42", actor="oncall", at=SystemClock().now()
    )
    thread.join(5)
    assert time.monotonic() - t0 < 1.0
    assert signals and signals[0].reason == "incident 42"
    assert refunds == []
    assert runs[0].status is RunStatus.KILLED
    gov.flush()
    assert store.get_approval(request.id).status is ApprovalStatus.CANCELLED
    assert store.get_run(runs[0].id).run.status is RunStatus.KILLED


def test_shadow_mode_proposes_approval_calls_without_asking(
    make_governor, spec_factory, store
) -> None:
    gov, refunds = _refund_governor(make_governor, spec_factory)
    with gov.run(input="refund 900", mode="shadow", dangerously_override_rollout=True) as run:
        proposal = run.call("issue_refund", amount=900)
        run.resolve()
    assert proposal.proposed
    assert refunds == []
    assert store.list_approvals(None) == []


def test_a_decision_is_made_once(store) -> None:
    from datetime import timedelta

    from warden.errors import NotFoundError, RunStateError

    now = SystemClock().now()
    store.create_approval(
        ApprovalRequest(
            id="apr_1",
            run_id="r",
            agent="a",
            seq=1,
            tool="t",
            args_hash="h",
            rule="access",
            reason="why",
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    store.decide_approval("apr_1", status=ApprovalStatus.APPROVED, actor="x", reason="ok", at=now)
    with pytest.raises(RunStateError):
        store.decide_approval("apr_1", status=ApprovalStatus.DENIED, actor="y", reason="no", at=now)
    assert store.get_approval("apr_1").decided_by == "x"
    with pytest.raises(NotFoundError):
        store.decide_approval(
            "apr_missing", status=ApprovalStatus.DENIED, actor="y", reason="no", at=now
        )


# -- issue "Authority": approvals that hold (regression tests) ----------------------------


def test_a_tool_blocked_by_spec_apply_during_the_wait_never_runs(
    make_governor, spec_factory, store
) -> None:
    from warden.control.scope import apply_spec

    gov, refunds = _refund_governor(make_governor, spec_factory)
    clock = SystemClock()
    apply_spec(store, gov.spec, actor="dana", clock=clock)  # the version in force
    runs: list[Any] = []

    def agent() -> None:
        with gov.run(input="refund 250") as run:
            run.call("issue_refund", amount=250)
            run.resolve()
        runs.append(run)

    thread = _in_thread(agent)
    request = _pending(store)
    tools = {**REFUND_TOOLS, "issue_refund": {**REFUND_TOOLS["issue_refund"], "access": "blocked"}}
    narrower = spec_factory(tools, escalation={"queue": "tier1-humans", "on": []})
    change = apply_spec(store, narrower, actor="dana", clock=clock)  # a contraction: at once
    assert change.status.value == "applied"
    store.decide_approval(
        request.id, status=ApprovalStatus.APPROVED, actor="carol", reason="ok", at=clock.now()
    )
    thread.join(5)
    assert refunds == []  # approved under the old spec, blocked by the one in force
    assert runs[0].status is RunStatus.BLOCKED


def test_a_run_resumed_after_a_restart_finds_its_decision(
    make_governor, spec_factory, store
) -> None:
    """The first process asked and died while waiting; a person approved meanwhile; the
    restarted process resumes the same run and call and runs it without asking again."""
    from datetime import timedelta

    from warden.core.calls import arguments_hash
    from warden.runtime.chain.approval_wait import request_id

    gov, refunds = _refund_governor(make_governor, spec_factory)
    now = SystemClock().now()
    args_hash = arguments_hash("issue_refund", {"amount": 250.0})
    asked = ApprovalRequest(  # what the first process stored before it died
        id=request_id(gov.spec.name, "run_resumable", 1, args_hash),
        run_id="run_resumable",
        agent=gov.spec.name,
        seq=1,
        tool="issue_refund",
        arguments={"amount": 250.0},
        args_hash=args_hash,
        rule="conditional_approval",
        reason="amount > 100",
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    store.create_approval(asked)
    store.decide_approval(
        asked.id, status=ApprovalStatus.APPROVED, actor="carol", reason="ok", at=now
    )
    with gov.run(input="refund 250", run_id="run_resumable") as run:
        run.call("issue_refund", amount=250)
        run.resolve()
    assert refunds == [250]
    assert [a.id for a in store.list_approvals()] == [asked.id]  # not asked twice


def test_an_expired_request_cannot_be_decided(store) -> None:
    from datetime import timedelta

    from warden.errors import RunStateError

    now = SystemClock().now()
    store.create_approval(
        ApprovalRequest(
            id="apr_old",
            run_id="r",
            agent="a",
            seq=1,
            tool="issue_refund",
            args_hash="h",
            rule="approval",
            reason="why",
            created_at=now - timedelta(hours=2),
            expires_at=now - timedelta(hours=1),
        )
    )
    with pytest.raises(RunStateError, match="expired"):
        store.decide_approval(
            "apr_old", status=ApprovalStatus.APPROVED, actor="carol", reason="late", at=now
        )
    assert store.get_approval("apr_old").status is ApprovalStatus.EXPIRED
