"""The audit log and its chain status (hashes, MACs, the sealed decisions of finished runs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warden.core.audit import AuditEntry, ChainCheck
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require

router = APIRouter(prefix="/api/audit", tags=["audit log"])


@router.get("", response_model=list[AuditEntry])
def list_audit(
    agent: str | None = None,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.VIEWER)),
) -> list[AuditEntry]:
    """Entries in order after ``after_seq`` (a token bound to an agent sees that agent's)."""
    return ctx.store.list_audit(agent=who.agent or agent, after_seq=after_seq, limit=limit)


@router.get("/verify", response_model=ChainCheck)
def verify(
    ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.VIEWER))
) -> ChainCheck:
    """Check the whole log: the hash chain, each entry's MAC with the audit key the server
    was started with (``key_id``; None and a warning when it has none), and the sealed
    policy decisions of every finished run. Names the first entry altered, removed or
    forged (``first_bad_seq``), or the first finished run whose tool calls or decisions
    changed (``first_bad_run``)."""
    return ctx.store.verify_audit()
