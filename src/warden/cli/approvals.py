"""``warden approvals list|approve|deny``: calls waiting for a person."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    id_column,
    open_cli_store,
    out,
    print_json,
    print_table,
)
from warden.core.runs import ApprovalStatus

__all__ = ["app"]

app = typer.Typer(help="Decide calls waiting for a person.", no_args_is_help=True)


@app.command("list")
def approvals_list(
    status: Annotated[
        ApprovalStatus | None, typer.Option(help="Filter by status.")
    ] = ApprovalStatus.PENDING,
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List approval requests (pending by default), oldest first (the oldest ``--limit``)."""
    from pydantic import TypeAdapter
    from rich.markup import escape
    from rich.table import Table

    from warden.core.runs import ApprovalRequest

    with open_cli_store(database_url) as store:
        rows = store.list_approvals(status, agent=agent, limit=limit)
    if as_json:
        print_json(TypeAdapter(list[ApprovalRequest]).dump_python(rows, mode="json"))
        return
    table = Table(
        id_column("id"),
        "agent",
        id_column("run"),
        "tool",
        "arguments",
        "why",
        "status",
        "expires (UTC)",
    )
    for a in rows:
        table.add_row(
            a.id,
            a.agent,
            a.run_id,
            a.tool,
            escape(json.dumps(a.arguments)[:60]),
            escape(a.reason[:60]),
            a.status.value,
            f"{a.expires_at:%Y-%m-%d %H:%M:%S}",
        )
    print_table(table)


def _decide(
    approval_id: str, status: ApprovalStatus, reason: str, database_url: str | None, as_json: bool
) -> None:
    from warden.core.clock import SystemClock

    with open_cli_store(database_url, operator=True) as store:
        decided = store.decide_approval(
            approval_id, status=status, actor=actor(), reason=reason, at=SystemClock().now()
        )
    if as_json:
        print_json(decided)
    else:
        out.print(
            f"{decided.id} {decided.status.value} by {decided.decided_by}: {decided.tool} for run {decided.run_id}"
        )


@app.command("approve")
def approvals_approve(
    approval_id: Annotated[str, typer.Argument(help="Approval request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "approved",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending request; the waiting run goes on (after re-checking the policy)."""
    _decide(approval_id, ApprovalStatus.APPROVED, reason, database_url, as_json)


@app.command("deny")
def approvals_deny(
    approval_id: Annotated[str, typer.Argument(help="Approval request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded, shown to the owner).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Deny a pending request; the call is not executed."""
    _decide(approval_id, ApprovalStatus.DENIED, reason, database_url, as_json)
