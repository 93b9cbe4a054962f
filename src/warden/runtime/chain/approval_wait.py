"""Approval requests: a call that needs a person waits for one, bound to its exact arguments.

The arguments are frozen when the request is made (a deep copy, hashed): only a decision on
that request releases the call, and the tool then runs with exactly the approved values,
whatever the agent's code did to its own objects while it waited (TOCTOU). While it waits,
the run polls the store for the decision and the kill switch (a kill pre-empts the wait and
ends the run ``killed``). No decision before the spec's ``approval_timeout_s`` expires the
request and raises ``ApprovalTimeout`` (the run escalates); an expired request can no
longer be decided. Decisions are made with ``warden approvals approve|deny ID`` or the API,
from any process.

Once approved, the kill switch is read again and the spec version in force is checked: if
``warden spec apply`` put another version in force while the call waited, the call does not
run (``PolicyDenied``, rule ``spec_changed``). A request's id is derived from the agent, the
run, the call's position and its arguments, so a run resumed after a restart (same run id,
same call) finds its request and the decision made meanwhile instead of asking again. If
the wait ends any other way (the process is interrupted, the store fails), the request is
cancelled, so nobody approves a call that will never run. Time spent waiting is reported
on the run (``waiting_s``) and not charged to its wall-clock budget.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from datetime import timedelta

from warden.core.calls import CallInput
from warden.core.clock import Clock
from warden.core.ports import RuntimeStore
from warden.core.runs import ApprovalRequest, ApprovalStatus, ToolCallStatus
from warden.errors import (
    ApprovalDenied,
    ApprovalTimeout,
    KillSwitchEngaged,
    PolicyDenied,
    RunStateError,
    StoreUnavailable,
)
from warden.runtime.chain.interceptor import CallContext
from warden.runtime.killswitch import KillSwitch
from warden.runtime.recorder import Recorder

__all__ = ["ApprovalWait", "request_id"]


def request_id(agent: str, run_id: str, seq: int, args_hash: str) -> str:
    """The approval request id of a call: ``apr_`` + 16 hex chars of SHA-256 of the agent,
    the run, the call's position in it and its arguments (the same call of a resumed run
    has the same id)."""
    digest = hashlib.sha256(f"{agent}\x00{run_id}\x00{seq}\x00{args_hash}".encode()).hexdigest()
    return f"apr_{digest[:16]}"


class ApprovalWait:
    """Waits for a person's decision on a call; built once per governor.

    Args:
        store: Where requests are stored and decided (any process may decide them).
        recorder: Flushed before the request, so the approver sees the run so far.
        kill_switch: Checked fresh on every poll; a kill pre-empts the wait.
        clock: Time of requests and expiry, and the sleep between polls.
        poll_s: Seconds between polls of the store (default 0.2).
    """

    def __init__(
        self,
        store: RuntimeStore,
        recorder: Recorder,
        kill_switch: KillSwitch,
        clock: Clock,
        *,
        poll_s: float = 0.2,
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.kill_switch = kill_switch
        self.clock = clock
        self.poll_s = poll_s

    def __call__(self, ctx: CallContext) -> ApprovalRequest:
        """Create an approval request for ``ctx``'s call and wait for its decision.

        Returns:
            The approved request.

        Raises:
            ApprovalDenied: A person denied it.
            ApprovalTimeout: Nobody decided within ``policy.approval_timeout_s`` seconds.
            KillSwitchEngaged: The kill switch was flipped while waiting.
            StoreUnavailable: The request could not be stored (the call does not run).
        """
        run = ctx.run
        clock = self.clock
        assert ctx.decision is not None
        frozen = copy.deepcopy(dict(ctx.call.arguments))
        call = ctx.call = CallInput(
            agent=ctx.call.agent,
            run_id=ctx.call.run_id,
            tool=ctx.call.tool,
            arguments=frozen,
            seq=ctx.call.seq,
        )
        now = clock.now()
        timeout_s = run.spec.spec.policy.approval_timeout_s
        request = ApprovalRequest(
            id=request_id(run.spec.name, run.id, call.seq, call.args_hash),
            run_id=run.id,
            agent=run.spec.name,
            seq=call.seq,
            tool=call.tool,
            arguments=ctx.tool.arguments_as_json(frozen) if ctx.tool else frozen,
            args_hash=call.args_hash,
            rule=ctx.decision.rule,
            reason=ctx.decision.reason,
            created_at=now,
            expires_at=now + timedelta(seconds=timeout_s),
        )
        ctx.status = ToolCallStatus.NOT_RUN
        self.recorder.flush()  # the run and its steps so far are visible to the approver
        request = self.store.create_approval(request)  # the stored one, after a restart
        ctx.approval_id = request.id
        run.emit_progress(ctx, waiting=True)
        t0 = clock.monotonic()
        try:
            approved = self._wait(ctx, request, timeout_s)
        except (ApprovalDenied, ApprovalTimeout, KillSwitchEngaged):
            raise  # decided, expired or cancelled already
        except BaseException:
            # interrupted, or the store failed: nobody should approve a call that never runs
            self._close(request.id, ApprovalStatus.CANCELLED, "the run stopped waiting")
            raise
        finally:
            waited = clock.monotonic() - t0
            run.waiting_s += waited
            ctx.extra["waited_s"] = waited
        self.kill_switch.check(fresh=True)  # a kill at the moment of approval still stops it
        self._check_version_in_force(ctx)
        ctx.call = CallInput(  # the approved values, never the agent's objects
            agent=call.agent,
            run_id=call.run_id,
            tool=call.tool,
            arguments=copy.deepcopy(frozen),
            seq=call.seq,
        )
        return approved

    def _wait(
        self, ctx: CallContext, request: ApprovalRequest, timeout_s: float
    ) -> ApprovalRequest:
        clock = self.clock
        while True:
            try:
                self.kill_switch.check(fresh=True)
            except KillSwitchEngaged:
                self._close(request.id, ApprovalStatus.CANCELLED, "kill switch engaged")
                ctx.status = ToolCallStatus.KILLED
                raise
            current = self.store.get_approval(request.id)
            if current is not None and current.status is not ApprovalStatus.PENDING:
                return _settle(ctx, current)
            if clock.now() >= request.expires_at:
                self._close(request.id, ApprovalStatus.EXPIRED, f"no decision in {timeout_s:g} s")
                latest = self.store.get_approval(request.id)
                if latest is not None and latest.status in (
                    ApprovalStatus.APPROVED,
                    ApprovalStatus.DENIED,
                ):
                    return _settle(ctx, latest)  # decided by a person in the last instant
                # expired, or still pending because the expiry could not be written: a timeout
                raise ApprovalTimeout(
                    f"{ctx.call.tool}: nobody approved or denied the request within {timeout_s:g} s"
                )
            clock.sleep(self.poll_s)

    def _check_version_in_force(self, ctx: CallContext) -> None:
        """Refuse the call when another spec version came into force while it waited."""
        current = self.store.current_spec_change(ctx.run.spec.name)
        if current is not None and current.to_hash != ctx.run.spec_hash:
            ctx.status = ToolCallStatus.DENIED
            raise PolicyDenied(
                ctx.call.tool,
                "spec_changed",
                f"spec version {current.version} ({current.to_hash[:12]}) came into force while "
                "the call waited for approval; it does not run under the old version.",
            )

    def _close(self, approval_id: str, status: ApprovalStatus, reason: str) -> None:
        # Already decided, or unreachable: the run ends either way.
        with contextlib.suppress(RunStateError, StoreUnavailable):
            self.store.decide_approval(
                approval_id, status=status, actor="warden", reason=reason, at=self.clock.now()
            )


def _settle(ctx: CallContext, request: ApprovalRequest) -> ApprovalRequest:
    if request.args_hash != ctx.call.args_hash:  # defensive: never release other arguments
        raise ApprovalDenied(ctx.call.tool, "approval", "the approval was for other arguments.")
    if request.status is ApprovalStatus.APPROVED:
        return request
    ctx.status = ToolCallStatus.DENIED
    who = request.decided_by or "a person"
    why = request.decision_reason or "no reason given"
    raise ApprovalDenied(ctx.call.tool, "approval", f"{who} denied the request: {why}.")
