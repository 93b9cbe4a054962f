"""Approval requests: calls waiting for a person, listed, approved or denied (reviewer).

A token bound to an agent sees and decides that agent's requests only; each decision is
recorded in the audit log by the store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from warden.core.runs import ApprovalRequest, ApprovalStatus
from warden.core.tokens import Principal, Role
from warden.errors import NotFoundError
from warden.server.bodies import ReasonBody
from warden.server.deps import ServerContext, context, deny_other_agent, require
from warden.server.routers import OPERATIONS_TAG
from warden.server.routers.cursors import MAX_LIMIT, Page, decode_cursor, encode_cursor, page_of

router = APIRouter(tags=[OPERATIONS_TAG, "approvals"])


def _cursor(a: ApprovalRequest) -> str:
    return encode_cursor(a.created_at, a.id)


@router.get("/api/approvals", response_model=Page[ApprovalRequest])
def list_approvals(
    status: ApprovalStatus | None = ApprovalStatus.PENDING,
    agent: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> Page[ApprovalRequest]:
    """Approval requests (pending by default), oldest first, ``limit`` per page (a token
    bound to an agent sees that agent's only). ``next_cursor`` is the ``cursor`` of the
    next page."""
    if not who.may_act_on(agent or who.agent or ""):
        return Page(items=[])
    after = decode_cursor(cursor, str) if cursor else None
    rows = ctx.store.list_approvals(
        status,
        agent=who.agent or agent,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    return page_of(rows, limit, _cursor)


def _decide(
    approval_id: str,
    status: ApprovalStatus,
    reason: str,
    request: Request,
    ctx: ServerContext,
    who: Principal,
) -> ApprovalRequest:
    """Approve or deny ``approval_id`` as ``who`` (what both routes do).

    Raises:
        NotFoundError: No such approval request (404).
        HTTPException: 403 when ``who`` is bound to another agent.
        RunStateError: The request is no longer pending (409).
    """
    found = ctx.store.get_approval(approval_id)
    if found is None:
        raise NotFoundError(f"no approval request {approval_id!r}")
    deny_other_agent(ctx, request, who, found.agent)
    return ctx.store.decide_approval(
        approval_id, status=status, actor=who.name, reason=reason, at=ctx.clock.now()
    )


@router.post("/api/approvals/{approval_id}/approve", response_model=ApprovalRequest)
def approve(
    approval_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> ApprovalRequest:
    """Approve a waiting call (reviewer); the run re-checks the policy and goes on."""
    return _decide(approval_id, ApprovalStatus.APPROVED, body.reason, request, ctx, who)


@router.post("/api/approvals/{approval_id}/deny", response_model=ApprovalRequest)
def deny(
    approval_id: str,
    body: ReasonBody,
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> ApprovalRequest:
    """Deny a waiting call (reviewer); it is never executed."""
    return _decide(approval_id, ApprovalStatus.DENIED, body.reason, request, ctx, who)
