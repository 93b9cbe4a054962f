"""The human queue: handoff packets of runs handed to people."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from warden.core.runs import Handoff
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require
from warden.server.routers import OPERATIONS_TAG

router = APIRouter(tags=[OPERATIONS_TAG, "human queue"])


@router.get("/api/handoffs", response_model=list[Handoff])
def list_handoffs(
    queue: str | None = None,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[Handoff]:
    """Handoff packets in the human queues, newest first."""
    return [h for h in ctx.store.list_handoffs(queue) if who.may_act_on(h.agent)]
