"""The review queue: calls waiting for approval (with what their run did so far) and runs
handed to people, the form that approves or denies a waiting call, and the one that claims
or resolves a handoff (reviewer).

The form is here because it is part of the page: a refused decision shows the queue again
with the error, and a done one comes back to it with a notice (``_DONE``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from warden.control import handoffs as lifecycle
from warden.core.explain import explain_tool_call
from warden.core.runs import ApprovalRequest, ApprovalStatus, Handoff
from warden.core.tokens import Principal, Role
from warden.errors import ConfigError, RunStateError
from warden.server.deps import ServerContext, context, deny_other_agent
from warden.server.pages.common import (
    PageProblem,
    PageRoute,
    check_csrf,
    check_role,
    render,
    usable,
    viewer,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

_DONE = {
    "approved": "Approved. The run checks the policy again and goes on; the decision is in "
    "the audit log.",
    "denied": "Denied. The call will not run; the decision is in the audit log.",
    "claimed": "Claimed. The run is yours until you resolve it; the claim is in the audit log.",
    "resolved": "Resolved. What you did is recorded as the run's outcome and counts in the "
    "agent's agreement; the resolution is in the audit log.",
}


QUEUE_PAGE = 100
"""Calls waiting and runs handed to people shown at most (the oldest calls, the newest
runs); the page says how many more there are (counted by the database)."""


@dataclass(frozen=True)
class Waiting:
    """A call waiting for a person, with what its run did so far."""

    approval: ApprovalRequest
    input: object
    steps: list[str]


def queue_response(
    request: Request,
    who: Principal,
    ctx: ServerContext,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> Response:
    """The review queue (also re-shown with an error after a refused decision)."""
    waiting: list[Waiting] = []
    mine = None if who.agent is None else [who.agent]
    pending = ctx.store.list_approvals(ApprovalStatus.PENDING, agent=who.agent, limit=QUEUE_PAGE)
    for a in pending:
        detail = ctx.store.get_run(a.run_id)
        before = [c for c in detail.tool_calls if c.seq < a.seq] if detail else []
        waiting.append(
            Waiting(
                approval=a,
                input=detail.run.input if detail else None,
                steps=[explain_tool_call(c) for c in before],
            )
        )
    handoffs: list[Handoff] = ctx.store.list_handoffs(
        status="open", agent=who.agent, limit=QUEUE_PAGE
    )
    claimed = ctx.store.list_handoffs(status="claimed", agent=who.agent, limit=QUEUE_PAGE)
    more_waiting = more_handoffs = 0
    if len(pending) == QUEUE_PAGE:
        more_waiting = ctx.store.count_approvals(ApprovalStatus.PENDING, agents=mine) - QUEUE_PAGE
    if len(handoffs) == QUEUE_PAGE:
        more_handoffs = ctx.store.count_handoffs(status="open", agents=mine) - QUEUE_PAGE
    return render(
        request,
        "queue.html",
        who,
        status=status,
        waiting=waiting,
        more_waiting=max(0, more_waiting),
        handoffs=handoffs,
        more_handoffs=max(0, more_handoffs),
        claimed=claimed,
        can_decide=who.role.at_least(Role.REVIEWER),
        error=error,
        notice=notice,
    )


@router.get("/queue")
def queue_page(
    request: Request,
    done: str = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Calls waiting for approval and runs handed to people, oldest waiting first."""
    return queue_response(request, who, ctx, notice=_DONE.get(done, ""))


@router.post("/approvals/{approval_id}")
def decide(
    approval_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Approve or deny a waiting call (reviewer role), through the audited store method."""
    check_csrf(request, csrf)
    check_role(request, ctx, who, Role.REVIEWER, "approve or deny calls")
    found = ctx.store.get_approval(approval_id) if usable(approval_id) else None
    if found is None:
        raise PageProblem(404, "No such approval", f"No approval request {approval_id!r}.")
    try:
        deny_other_agent(ctx, request, who, found.agent)
    except HTTPException as exc:
        raise PageProblem(
            403, "Not allowed", f"Your token may not decide this: {exc.detail}."
        ) from exc
    statuses = {"approve": ApprovalStatus.APPROVED, "deny": ApprovalStatus.DENIED}
    if decision not in statuses:
        raise PageProblem(400, "Unknown decision", "A call can be approved or denied.")
    why = reason.strip()
    if not why or len(why) > 2000:
        return queue_response(
            request,
            who,
            ctx,
            status=400,
            error="Say why (up to 2000 characters): the reason is recorded in the audit log "
            "and shown to the agent's owner.",
        )
    try:
        ctx.store.decide_approval(
            approval_id, status=statuses[decision], actor=who.name, reason=why, at=ctx.clock.now()
        )
    except RunStateError as exc:  # decided by someone else, expired or cancelled meanwhile
        return queue_response(request, who, ctx, status=409, error=exc.message)
    return RedirectResponse(f"/queue?done={statuses[decision].value}", 303)


def _action(text: str) -> Any:
    """The action typed in the form: JSON, else a bare tool name; empty: nothing."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@router.post("/handoffs/{handoff_id}")
def handle(
    handoff_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Claim or resolve a run handed to people (reviewer), through ``control.handoffs``;
    resolving records the action given as the run's outcome."""
    check_csrf(request, csrf)
    check_role(request, ctx, who, Role.REVIEWER, "claim or resolve handoffs")
    found = ctx.store.get_handoff(handoff_id) if usable(handoff_id) else None
    if found is None:
        raise PageProblem(404, "No such handoff", f"No handoff {handoff_id!r}.")
    try:
        deny_other_agent(ctx, request, who, found.agent)
    except HTTPException as exc:
        raise PageProblem(
            403, "Not allowed", f"Your token may not handle this: {exc.detail}."
        ) from exc
    if decision not in ("claim", "resolve"):
        raise PageProblem(400, "Unknown decision", "A handoff can be claimed or resolved.")
    why = reason.strip()
    if len(why) > lifecycle.MAX_NOTE or (decision == "resolve" and not why):
        return queue_response(
            request,
            who,
            ctx,
            status=400,
            error="Say what you did and why (up to 2000 characters): the note is recorded "
            "in the audit log.",
        )
    try:
        if decision == "claim":
            lifecycle.claim(ctx.store, handoff_id, actor=who.actor, clock=ctx.clock)
        else:
            lifecycle.resolve(
                ctx.store,
                handoff_id,
                _action(action),
                actor=who.actor,
                clock=ctx.clock,
                note=why,
            )
    except ConfigError as exc:
        return queue_response(request, who, ctx, status=400, error=exc.message)
    except RunStateError as exc:  # claimed or resolved by someone else meanwhile
        return queue_response(request, who, ctx, status=409, error=exc.message)
    done = "claimed" if decision == "claim" else "resolved"
    return RedirectResponse(f"/queue?done={done}#handoffs", 303)
