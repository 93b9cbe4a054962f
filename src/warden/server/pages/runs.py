"""The runs page (with filters) and the run page: the decision trail in plain language."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from warden.core.decisions import Verdict
from warden.core.explain import explain_run
from warden.core.runs import (
    ApprovalRequest,
    ModelCallRecord,
    RunFilter,
    RunMode,
    RunStatus,
    ToolCallRecord,
)
from warden.core.tokens import Principal
from warden.server.deps import ServerContext, context, deny_other_agent
from warden.server.pages.common import PageProblem, PageRoute, render, usable, viewer

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 50


@dataclass
class Filters:
    """The runs page's filters as given, and what was wrong with them."""

    agent: str = ""
    state: str = ""
    mode: str = ""
    since: str = ""
    until: str = ""
    denied: bool = False
    problems: list[str] = field(default_factory=list[str])

    def query(self, **extra: str) -> str:
        """The filters (and ``extra``) as a query string."""
        values = {
            "agent": self.agent,
            "state": self.state,
            "mode": self.mode,
            "since": self.since,
            "until": self.until,
            "denied": "1" if self.denied else "",
            **extra,
        }
        return urlencode({k: v for k, v in values.items() if v})


def _day(text: str, name: str, problems: list[str], *, end: bool = False) -> datetime | None:
    """Midnight UTC of the date ``text`` (of the day after, with ``end``), or None."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
        return datetime.combine(day, time.min, tzinfo=UTC)
    except (ValueError, OverflowError):
        problems.append(f"{name} is not a date (YYYY-MM-DD): {text!r}; ignored.")
        return None


def _filter(f: Filters, after: tuple[datetime, str] | None) -> RunFilter:
    status = mode = None
    if f.state:
        try:
            status = RunStatus(f.state)
        except ValueError:
            f.problems.append(f"Unknown state {f.state!r}; ignored.")
    if f.mode:
        try:
            mode = RunMode(f.mode)
        except ValueError:
            f.problems.append(f"Unknown mode {f.mode!r}; ignored.")
    return RunFilter(
        agent=f.agent or None,
        status=status,
        mode=mode,
        since=_day(f.since, "From", f.problems),
        until=_day(f.until, "To", f.problems, end=True),  # "to" includes that day
        denied_only=f.denied,
        after=after,
        limit=PAGE_SIZE + 1,
    )


@router.get("/runs")
def runs_page(
    request: Request,
    agent: str = "",
    state: str = "",
    mode: str = "",
    since: str = "",
    until: str = "",
    denied: str = "",
    after_at: str = "",
    after_id: str = "",
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """Runs newest first, filtered by agent, state, mode, dates and denied calls."""
    f = Filters(
        agent=who.agent or (agent.strip() if usable(agent) else ""),
        state=state,
        mode=mode,
        since=since,
        until=until,
        denied=denied not in ("", "0", "false"),
    )
    after: tuple[datetime, str] | None = None
    if after_at and after_id:
        try:
            at = datetime.fromisoformat(after_at)
            if at.tzinfo is None:
                raise ValueError("no time zone")
            after = (at.astimezone(UTC), after_id)
        except (ValueError, OverflowError):
            f.problems.append("The page link is not valid; showing the newest runs.")
    rows = ctx.store.list_runs(_filter(f, after))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    older = (
        f.query(after_at=rows[-1].started_at.isoformat(), after_id=rows[-1].id)
        if more and rows
        else ""
    )
    agents = sorted({v.agent for v in ctx.store.list_spec_versions() if who.may_act_on(v.agent)})
    return render(
        request,
        "runs.html",
        who,
        runs=rows,
        f=f,
        older=older,
        paged=after is not None,
        agents=agents,
        states=[s.value for s in RunStatus],
        modes=[m.value for m in RunMode],
    )


@dataclass(frozen=True)
class Step:
    """One step of a run as the run page shows it."""

    seq: int
    tool: ToolCallRecord | None = None
    model: ModelCallRecord | None = None
    approval: ApprovalRequest | None = None


@router.get("/runs/{run_id}")
def run_page(
    run_id: str,
    request: Request,
    who: Principal = Depends(viewer),
    ctx: ServerContext = Depends(context),
) -> Response:
    """One run: input, each step with its policy decision and reason, output, why it ended."""
    detail = ctx.store.get_run(run_id) if usable(run_id) else None
    if detail is None:
        raise PageProblem(404, "No such run", f"No run {run_id!r} is recorded.")
    try:
        deny_other_agent(ctx, request, who, detail.run.agent)
    except HTTPException as exc:
        raise PageProblem(
            403, "Not allowed", f"Your token may not see this run: {exc.detail}."
        ) from exc
    approvals = {a.id: a for a in detail.approvals}
    steps = [
        Step(
            seq=c.seq,
            tool=c,
            approval=approvals.get(c.approval_id) if c.approval_id else None,
        )
        for c in detail.tool_calls
    ] + [Step(seq=m.seq, model=m) for m in detail.model_calls]
    steps.sort(key=lambda s: s.seq)
    linked = {s.approval.id for s in steps if s.approval is not None}
    denied: list[tuple[str, str]] = []  # (tool, reason), each once
    for c in detail.tool_calls:
        d = c.decision
        if d is not None and d.verdict is Verdict.DENY and (c.tool, d.reason) not in denied:
            denied.append((c.tool, d.reason))
    technical: dict[str, Any] = detail.model_dump(mode="json")
    return render(
        request,
        "run.html",
        who,
        d=detail,
        r=detail.run,
        steps=steps,
        story=[line for line in explain_run(detail) if not line.startswith("Input: ")],
        other_approvals=[a for a in detail.approvals if a.id not in linked],
        denied=denied,
        retried=sum(max(0, c.attempts - 1) for c in detail.tool_calls),
        technical=json.dumps(technical, indent=2, sort_keys=True, default=str),
    )
