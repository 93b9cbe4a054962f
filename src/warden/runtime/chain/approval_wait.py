"""Approval requests: a call that needs a person waits for one, bound to its exact arguments.

The request is stored with the hash of the tool name and arguments; only a decision on
that request releases this call, so a changed argument needs a new approval. While it
waits, the run polls the store for the decision and the kill switch (a kill pre-empts the
wait and ends the run ``killed``). No decision before the spec's ``approval_timeout_s``
expires the request and raises ``ApprovalTimeout`` (the run escalates). Decisions are made
with ``warden approvals approve|deny ID`` (or later the API), from any process.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from warden.core.clock import Clock
from warden.core.ports import RuntimeStore
from warden.core.runs import ApprovalRequest, ApprovalStatus, ToolCallStatus
from warden.errors import (
    ApprovalDenied,
    ApprovalTimeout,
    KillSwitchEngaged,
    RunStateError,
    StoreUnavailable,
)
from warden.runtime.chain.interceptor import CallContext
from warden.runtime.killswitch import KillSwitch
from warden.runtime.recorder import Recorder

__all__ = ["ApprovalWait"]


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
        now = clock.now()
        timeout_s = run.spec.spec.policy.approval_timeout_s
        request = ApprovalRequest(
            id=f"apr_{uuid.uuid4().hex[:16]}",
            run_id=run.id,
            agent=run.spec.name,
            seq=ctx.call.seq,
            tool=ctx.call.tool,
            arguments=ctx.tool.arguments_as_json(ctx.call.arguments)
            if ctx.tool
            else ctx.call.arguments,
            args_hash=ctx.call.args_hash,
            rule=ctx.decision.rule,
            reason=ctx.decision.reason,
            created_at=now,
            expires_at=now + timedelta(seconds=timeout_s),
        )
        ctx.status = ToolCallStatus.NOT_RUN
        self.recorder.flush()  # the run and its steps so far are visible to the approver
        self.store.create_approval(request)
        ctx.approval_id = request.id
        run.emit_progress(ctx, waiting=True)
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
