"""The approval wait: a request bound to the call's exact arguments, polled until a person
decides, the request expires, or the kill switch pre-empts the wait. Time is a FakeClock:
each poll's sleep advances it, so a 600 s wait takes no real time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import (
    Decided,
    FakeKillSwitch,
    FakeRecorder,
    FakeRun,
    FakeStore,
    call_context,
)
from warden.core.clock import FakeClock
from warden.core.decisions import Decision, Verdict
from warden.core.runs import ApprovalStatus, ToolCallStatus
from warden.errors import (
    ApprovalDenied,
    ApprovalTimeout,
    KillSwitchEngaged,
    PolicyDenied,
    StoreUnavailable,
)
from warden.runtime.chain import ApprovalWait
from warden.runtime.chain.interceptor import CallContext

SPEC = make_spec(
    {"issue_refund": {"access": "write", "approval_when": "amount > 100"}},
    policy={"approval_timeout_s": 600},
)
POLL_S = 30.0


def issue_refund(amount: float) -> str:
    raise AssertionError("the wait never runs the tool")


@pytest.fixture
def wait(fake_store: FakeStore, recorder: FakeRecorder, kill_switch: FakeKillSwitch, clock):
    return ApprovalWait(fake_store, recorder, kill_switch, clock, poll_s=POLL_S)


def _ctx(run: FakeRun | None = None, amount: float = 250.0) -> CallContext:
    ctx = call_context(
        run or FakeRun(SPEC), "issue_refund", {"amount": amount}, fn=issue_refund, seq=3
    )
    ctx.decision = Decision(
        verdict=Verdict.REQUIRE_APPROVAL,
        rule="conditional_approval",
        reason="issue_refund needs a person's approval when amount > 100.",
    )
    return ctx


def _only(fake_store: FakeStore):
    (request,) = fake_store.approvals.values()
    return request


def test_the_request_is_bound_to_the_call_and_visible_before_the_wait(
    wait, fake_store: FakeStore, journal: list[str], clock: FakeClock
) -> None:
    fake_store.person = Decided(poll=1, status=ApprovalStatus.APPROVED)
    run = FakeRun(SPEC)
    ctx = _ctx(run)
    started = clock.now()
    wait(ctx)
    request = _only(fake_store)
    assert request.id.startswith("apr_")
    assert (request.run_id, request.agent, request.seq, request.tool) == (
        "run_test",
        "test-agent",
        3,
        "issue_refund",
    )
    assert request.arguments == {"amount": 250.0}
    assert request.args_hash == ctx.call.args_hash
    assert (request.rule, request.reason) == (ctx.decision.rule, ctx.decision.reason)
    assert request.created_at == started
    assert request.expires_at == started + timedelta(seconds=600)
    assert journal[:2] == ["flush", "create_approval"]  # the approver sees the run so far
    assert ctx.approval_id == request.id
    assert run.progress == [(3, True)]  # recorded as waiting


def test_an_approval_releases_the_call(
    wait, fake_store: FakeStore, kill_switch: FakeKillSwitch, clock: FakeClock
) -> None:
    fake_store.person = Decided(poll=3, status=ApprovalStatus.APPROVED)
    ctx = _ctx()
    started = clock.now()
    approved = wait(ctx)
    assert approved.status is ApprovalStatus.APPROVED
    assert approved.id == ctx.approval_id
    assert fake_store.polls == 3
    # a fresh read before every poll, and once more once approved (issue "Authority")
    assert kill_switch.checks == [True, True, True, True]
    assert clock.now() - started == timedelta(seconds=2 * POLL_S)  # slept between polls
    assert fake_store.decisions == []  # Warden closed nothing
    assert ctx.status is ToolCallStatus.NOT_RUN  # until the rest of the chain runs it


def test_a_denial_raises_with_who_and_why(wait, fake_store: FakeStore) -> None:
    fake_store.person = Decided(
        poll=2, status=ApprovalStatus.DENIED, actor="carol", reason="looks like fraud"
    )
    ctx = _ctx()
    with pytest.raises(ApprovalDenied) as info:
        wait(ctx)
    assert (info.value.tool, info.value.rule) == ("issue_refund", "approval")
    assert info.value.reason == "carol denied the request: looks like fraud."
    assert ctx.status is ToolCallStatus.DENIED


def test_a_denial_without_a_name_or_reason_still_reads_well(wait, fake_store: FakeStore) -> None:
    fake_store.person = Decided(poll=1, status=ApprovalStatus.DENIED, actor=None, reason=None)
    with pytest.raises(ApprovalDenied) as info:
        wait(_ctx())
    assert info.value.reason == "a person denied the request: no reason given."


def test_no_decision_before_expiry_times_out_and_expires_the_request(
    wait, fake_store: FakeStore, clock: FakeClock
) -> None:
    ctx = _ctx()
    started = clock.now()
    with pytest.raises(ApprovalTimeout, match="within 600 s"):
        wait(ctx)
    request = _only(fake_store)
    assert request.status is ApprovalStatus.EXPIRED
    assert fake_store.decisions == [
        (request.id, ApprovalStatus.EXPIRED, "warden", "no decision in 600 s")
    ]
    assert clock.now() - started == timedelta(seconds=600)  # waited exactly the timeout
    assert ctx.status is ToolCallStatus.NOT_RUN


def test_a_decision_in_the_last_instant_wins_over_the_expiry(wait, fake_store: FakeStore) -> None:
    def person_first(approval_id: str) -> None:  # decided just before Warden closes it
        fake_store.decide(approval_id, ApprovalStatus.APPROVED, "carol", "just in time")

    fake_store.before_decide = person_first
    approved = wait(_ctx())
    assert approved.status is ApprovalStatus.APPROVED
    assert approved.decided_by == "carol"


def test_an_expiry_that_cannot_be_recorded_is_still_a_timeout(wait, fake_store: FakeStore) -> None:
    fake_store.decide_error = StoreUnavailable("Warden server answered 503")
    with pytest.raises(ApprovalTimeout):
        wait(_ctx())


def test_the_kill_switch_pre_empts_the_wait_and_cancels_the_request(
    wait, fake_store: FakeStore, kill_switch: FakeKillSwitch
) -> None:
    kill_switch.engage_on_check = 4
    ctx = _ctx()
    with pytest.raises(KillSwitchEngaged) as info:
        wait(ctx)
    assert info.value.reason == "incident 42"
    assert fake_store.polls == 3  # the kill was seen before the fourth poll
    request = _only(fake_store)
    assert request.status is ApprovalStatus.CANCELLED
    assert fake_store.decisions == [
        (request.id, ApprovalStatus.CANCELLED, "warden", "kill switch engaged")
    ]
    assert ctx.status is ToolCallStatus.KILLED


def test_a_kill_before_the_first_poll_cancels_at_once(
    wait, fake_store: FakeStore, kill_switch: FakeKillSwitch
) -> None:
    kill_switch.engage()
    fake_store.person = Decided(poll=1, status=ApprovalStatus.APPROVED)
    with pytest.raises(KillSwitchEngaged):
        wait(_ctx())
    assert fake_store.polls == 0
    assert _only(fake_store).status is ApprovalStatus.CANCELLED


def test_the_kill_still_ends_the_wait_when_the_request_cannot_be_cancelled(
    wait, fake_store: FakeStore, kill_switch: FakeKillSwitch
) -> None:
    kill_switch.engage()
    fake_store.decide_error = StoreUnavailable("store unreachable")
    with pytest.raises(KillSwitchEngaged):
        wait(_ctx())


def test_an_approval_of_other_arguments_is_never_released(wait, fake_store: FakeStore) -> None:
    fake_store.person = Decided(poll=1, status=ApprovalStatus.APPROVED, args_hash="0" * 64)
    with pytest.raises(ApprovalDenied, match="the approval was for other arguments"):
        wait(_ctx())


def test_no_request_when_the_run_cannot_be_flushed(
    wait, fake_store: FakeStore, recorder: FakeRecorder
) -> None:
    recorder.down = True
    ctx = _ctx()
    with pytest.raises(StoreUnavailable):
        wait(ctx)
    assert fake_store.approvals == {}
    assert ctx.status is ToolCallStatus.NOT_RUN
    assert ctx.approval_id is None


def test_an_unregistered_tool_is_requested_with_its_raw_arguments(
    wait, fake_store: FakeStore
) -> None:
    fake_store.person = Decided(poll=1, status=ApprovalStatus.APPROVED)
    ctx = call_context(FakeRun(SPEC), "issue_refund", {"amount": "250"})
    ctx.decision = Decision(verdict=Verdict.REQUIRE_APPROVAL, rule="access", reason="ask")
    wait(ctx)
    assert _only(fake_store).arguments == {"amount": "250"}


# -- issue "Authority": approvals that hold (written against the broken behaviour) --------


def test_the_tool_runs_with_the_approved_values_not_the_agents_mutated_objects(
    wait, fake_store: FakeStore
) -> None:
    """TOCTOU: a nested argument changed while the call waited was what ran."""
    target = {"to": "ACCT-GOOD"}
    ctx = call_context(FakeRun(SPEC), "issue_refund", {"amount": 500, "payee": target}, seq=3)
    ctx.decision = _ctx().decision
    fake_store.person = Decided(poll=2, status=ApprovalStatus.APPROVED)
    seen: list[str] = []

    def mutate_during_wait(_: str) -> None:  # another thread of the agent, mid-wait
        target["to"] = "ACCT-EVIL"

    fake_store.on_poll = mutate_during_wait
    wait(ctx)
    seen.append(ctx.call.arguments["payee"]["to"])
    [request] = fake_store.approvals.values()
    assert request.arguments["payee"] == {"to": "ACCT-GOOD"}  # what the approver saw
    assert seen == ["ACCT-GOOD"]  # what runs


def test_a_spec_version_put_in_force_during_the_wait_stops_the_call(
    wait, fake_store: FakeStore
) -> None:
    from types import SimpleNamespace

    fake_store.person = Decided(poll=2, status=ApprovalStatus.APPROVED)
    fake_store.current_change = SimpleNamespace(to_hash="f" * 64, version="2")
    ctx = _ctx()
    with pytest.raises(PolicyDenied) as info:
        wait(ctx)
    assert info.value.rule == "spec_changed"
    assert ctx.status is ToolCallStatus.DENIED


def test_a_resumed_run_finds_the_decision_made_while_it_was_gone(
    wait, fake_store: FakeStore
) -> None:
    first = _ctx()
    fake_store.person = Decided(poll=1, status=ApprovalStatus.APPROVED)
    wait(first)
    polls = fake_store.polls
    again = _ctx()  # the same run and call, after a restart
    approved = wait(again)
    assert approved.id == first.approval_id == again.approval_id
    assert len(fake_store.approvals) == 1  # not asked twice
    assert fake_store.polls == polls + 1


def test_time_waiting_for_a_person_is_reported_and_not_charged(wait, fake_store: FakeStore) -> None:
    fake_store.person = Decided(poll=4, status=ApprovalStatus.APPROVED)
    ctx = _ctx()
    wait(ctx)
    assert ctx.run.waiting_s == pytest.approx(3 * POLL_S)
    assert ctx.extra["waited_s"] == pytest.approx(3 * POLL_S)


def test_a_wait_that_ends_otherwise_cancels_the_request(wait, fake_store: FakeStore) -> None:
    def interrupted(_: str) -> None:
        raise KeyboardInterrupt

    fake_store.on_poll = interrupted
    ctx = _ctx()
    with pytest.raises(KeyboardInterrupt):
        wait(ctx)
    assert [d[1] for d in fake_store.decisions] == [ApprovalStatus.CANCELLED]
