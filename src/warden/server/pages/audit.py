"""The audit log page: entries newest first, paged and filtered by agent, with the state of
the hash chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from warden.core.audit import AuditEntry
from warden.core.tokens import Principal
from warden.server.deps import ServerContext, context
from warden.server.pages.common import PageRoute, render, usable, viewer

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

AUDIT_PAGE = 50
"""Entries per page."""
CHECKED_ON_VIEW = 1_000
"""Newest entries (and the runs they seal) checked on each view: the page's cost does not
grow with the log. ``warden audit verify`` checks all of it."""


def _audit_page(
    ctx: ServerContext, agent: str | None, before: int, limit: int
) -> tuple[list[AuditEntry], int | None]:
    """Up to ``limit`` entries numbered below ``before``, newest first, and where the next
    page starts (None on the last page): one read on the partial index of acts."""
    found = ctx.store.list_audit(agent=agent, before_seq=before, limit=limit + 1, newest=True)
    found.reverse()
    page = found[:limit]
    return page, (page[-1].seq if len(found) > limit else None)


@router.get("/audit")
def audit_page(
    request: Request,
    agent: str = "",
    before: str = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """The audit log, newest first, with the state of the newest part of its hash chain."""
    check = ctx.store.check_audit(newest=CHECKED_ON_VIEW)
    head = ctx.store.audit_head()
    chosen = who.agent or (agent.strip() if usable(agent) else "") or None
    wanted = int(before) if before.isdigit() and len(before) < 19 else 0
    start = wanted if 0 < wanted <= head.seq + 1 else head.seq + 1
    entries, older = _audit_page(ctx, chosen, start, AUDIT_PAGE)
    agents = sorted({v.agent for v in ctx.store.list_spec_versions() if who.may_act_on(v.agent)})
    return render(
        request,
        "audit.html",
        who,
        check=check,
        head=head,
        entries=entries,
        older=older,
        agent=chosen or "",
        agents=agents,
        paged=start <= head.seq,
    )
