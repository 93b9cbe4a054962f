"""The policy gate: decide every call, then deny, propose (shadow), ask a person and decide
again, or let it through, charging the per-minute rate window only for calls let through."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRateWindow, FakeRun, RecordingProceed, call_context
from warden.core.clock import FakeClock
from warden.core.decisions import Verdict
from warden.core.runs import RunMode, ToolCallStatus
from warden.errors import ApprovalDenied, ApprovalTimeout, KillSwitchEngaged, PolicyDenied
from warden.runtime.chain import PolicyGate
from warden.runtime.chain.interceptor import CallContext
from warden.runtime.ratelimit import RateWindow
from warden.runtime.shadow import Proposal

SPEC = make_spec(
    {
        "lookup": {"access": "read"},
        "route_ticket": {"access": "write"},
        "close_account": {"access": "approval", "rate_limit": {"per_minute": 1}},
        "issue_refund": {"access": "blocked"},
        "limited": {"access": "read", "rate_limit": {"per_minute": 2}},
    },
    policy={"max_repeated_calls": 3},
)


class FakeApprovals:
    """Stands for ``ApprovalWait``: records what it was asked, then does ``then``."""

    def __init__(self, then: Any = None) -> None:
        self.asked: list[tuple[CallContext, Verdict | None]] = []
        self.then = then

    def __call__(self, ctx: CallContext) -> None:
        self.asked.append((ctx, ctx.decision.verdict if ctx.decision else None))
        if isinstance(self.then, BaseException):
            raise self.then
        if callable(self.then):
            self.then(ctx)


def _gate(window: FakeRateWindow | RateWindow | None = None, approvals: Any = None) -> PolicyGate:
    return PolicyGate(window or FakeRateWindow(), approvals or FakeApprovals())


def _state(run: FakeRun):
    assert run.policy is not None
    return run.policy.state


def test_an_allowed_call_proceeds_and_is_counted(proceed: RecordingProceed) -> None:
    run, window = FakeRun(SPEC), FakeRateWindow()
    ctx = call_context(run, "lookup", {"id": "c1"})
    assert _gate(window)(ctx, proceed) == "done"
    assert proceed.calls == [ctx]
    assert ctx.decision is not None
    assert (ctx.decision.verdict, ctx.decision.rule) == (Verdict.ALLOW, "access")
    assert window.asked == ["lookup"]
    assert window.added == ["lookup"]  # charged: it was let through
    assert _state(run).tool_calls["lookup"] == 1
    assert _state(run).call_counts[ctx.call.args_hash] == 1


@pytest.mark.parametrize(("tool", "rule"), [("issue_refund", "access"), ("nope", "unknown_tool")])
def test_a_denied_call_never_proceeds(proceed: RecordingProceed, tool: str, rule: str) -> None:
    run, window = FakeRun(SPEC), FakeRateWindow()
    ctx = call_context(run, tool, {"amount": 5})
    with pytest.raises(PolicyDenied) as info:
        _gate(window)(ctx, proceed)
    assert (info.value.tool, info.value.rule) == (tool, rule)
    assert info.value.reason == ctx.decision.reason
    assert ctx.status is ToolCallStatus.DENIED
    assert ctx.decision is not None and ctx.decision.verdict is Verdict.DENY
    assert not proceed.called
    assert window.added == []  # not charged
    assert _state(run).tool_calls[tool] == 0  # not let through...
    assert _state(run).call_counts[ctx.call.args_hash] == 1  # ...but attempted


def test_the_per_minute_rate_limit_reads_the_window(proceed: RecordingProceed) -> None:
    window = FakeRateWindow({"limited": 2})
    ctx = call_context(FakeRun(SPEC), "limited")
    with pytest.raises(PolicyDenied) as info:
        _gate(window)(ctx, proceed)
    assert info.value.rule == "rate_limit"
    assert window.asked == ["limited"]
    assert window.added == []
    assert not proceed.called


def test_the_window_is_charged_only_for_calls_let_through(proceed: RecordingProceed) -> None:
    clock = FakeClock()
    window = RateWindow(clock, {"limited"})
    gate = _gate(window)
    run = FakeRun(SPEC)
    for i in range(2):
        gate(call_context(run, "limited", {"i": i}, seq=i + 1), proceed)
    for i in range(2, 5):  # denied calls do not fill the window further
        with pytest.raises(PolicyDenied):
            gate(call_context(run, "limited", {"i": i}, seq=i + 1), proceed)
    assert window.counts("limited") == {"limited": 2}
    clock.advance(60)
    gate(call_context(run, "limited", {"i": 9}, seq=9), proceed)
    assert len(proceed.calls) == 3


def test_repeated_attempts_are_counted_for_loop_detection(proceed: RecordingProceed) -> None:
    run = FakeRun(SPEC)
    gate = _gate()
    gate(call_context(run, "lookup", {"id": "c1"}, seq=1), proceed)
    gate(call_context(run, "lookup", {"id": "c1"}, seq=2), proceed)
    with pytest.raises(PolicyDenied) as info:
        gate(call_context(run, "lookup", {"id": "c1"}, seq=3), proceed)
    assert info.value.rule == "repeated_call"
    assert len(proceed.calls) == 2


def test_shadow_mode_turns_a_write_into_a_proposal(proceed: RecordingProceed) -> None:
    run, window = FakeRun(SPEC, mode=RunMode.SHADOW), FakeRateWindow()
    ctx = call_context(run, "route_ticket", {"ticket_id": "t1", "queue": "card_arrival"})
    result = _gate(window)(ctx, proceed)
    assert result == Proposal(
        tool="route_ticket", arguments={"ticket_id": "t1", "queue": "card_arrival"}
    )
    assert not proceed.called
    assert ctx.status is ToolCallStatus.PROPOSED
    assert ctx.result_json == {
        "tool": "route_ticket",
        "arguments": {"ticket_id": "t1", "queue": "card_arrival"},
        "proposed": True,
    }
    assert _state(run).write_calls == 1  # a proposal counts as let through (blast radius)
    assert _state(run).call_counts[ctx.call.args_hash] == 1


def test_shadow_mode_proposes_a_call_needing_approval_without_asking(
    proceed: RecordingProceed,
) -> None:
    approvals = FakeApprovals()
    ctx = call_context(FakeRun(SPEC, mode=RunMode.SHADOW), "close_account", {"account": "a1"})
    assert isinstance(_gate(approvals=approvals)(ctx, proceed), Proposal)
    assert approvals.asked == []
    assert not proceed.called
    assert ctx.status is ToolCallStatus.PROPOSED


def test_shadow_mode_runs_reads_and_still_denies(proceed: RecordingProceed) -> None:
    run = FakeRun(SPEC, mode=RunMode.SHADOW)
    assert _gate()(call_context(run, "lookup"), proceed) == "done"
    ctx = call_context(run, "issue_refund", seq=2)
    with pytest.raises(PolicyDenied):
        _gate()(ctx, proceed)
    assert ctx.status is ToolCallStatus.DENIED
    assert len(proceed.calls) == 1


def test_require_approval_asks_then_decides_again_and_proceeds(proceed: RecordingProceed) -> None:
    run, window, approvals = FakeRun(SPEC), FakeRateWindow(), FakeApprovals()
    ctx = call_context(run, "close_account", {"account": "a1"})
    assert _gate(window, approvals)(ctx, proceed) == "done"
    assert [(c, verdict) for c, verdict in approvals.asked] == [(ctx, Verdict.REQUIRE_APPROVAL)]
    assert ctx.decision is not None
    assert ctx.decision.verdict is Verdict.ALLOW
    assert ctx.decision.rule == "access"
    assert ctx.decision.reason.startswith("A person approved it (")
    assert window.asked == ["close_account", "close_account"]  # decided twice
    assert window.added == ["close_account"]
    assert proceed.calls == [ctx]
    assert _state(run).call_counts[ctx.call.args_hash] == 1  # one attempt, not two


def test_a_deny_after_the_approval_still_denies(proceed: RecordingProceed) -> None:
    # While it waited, the per-minute limit filled up: the second decision denies.
    window = FakeRateWindow({"close_account": 0})

    def meanwhile(ctx: CallContext) -> None:
        window.recent["close_account"] = 1

    ctx = call_context(FakeRun(SPEC), "close_account", {"account": "a1"})
    with pytest.raises(PolicyDenied) as info:
        _gate(window, FakeApprovals(then=meanwhile))(ctx, proceed)
    assert info.value.rule == "rate_limit"
    assert ctx.status is ToolCallStatus.DENIED
    assert not proceed.called
    assert window.added == []


@pytest.mark.parametrize(
    "error",
    [
        ApprovalDenied("close_account", "approval", "carol denied the request: no."),
        ApprovalTimeout("close_account: nobody approved or denied the request within 900 s"),
        KillSwitchEngaged("test-agent", "incident 42"),
    ],
)
def test_no_approval_no_call(proceed: RecordingProceed, error: BaseException) -> None:
    run, window = FakeRun(SPEC), FakeRateWindow()
    ctx = call_context(run, "close_account", {"account": "a1"})
    with pytest.raises(type(error)):
        _gate(window, FakeApprovals(then=error))(ctx, proceed)
    assert not proceed.called
    assert window.added == []
    assert _state(run).tool_calls["close_account"] == 0
    assert _state(run).call_counts[ctx.call.args_hash] == 1
