"""``warden handoffs list|claim|resolve|reassign``: the human queue, runs handed to
people, and their lifecycle (``open -> claimed -> resolved``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    id_column,
    open_cli_store,
    operator,
    out,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from warden.core.runs import Handoff

__all__ = ["app"]

app = typer.Typer(help="The human queue: runs handed to people.", no_args_is_help=True)


@app.command("list")
def handoffs_list(
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status (e.g. open).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List handoff packets, newest first (the newest ``--limit``)."""
    from pydantic import TypeAdapter
    from rich.markup import escape
    from rich.table import Table

    from warden.core.runs import Handoff

    with open_cli_store(database_url) as store:
        rows = store.list_handoffs(queue, status=status, limit=limit)
    if as_json:
        print_json(TypeAdapter(list[Handoff]).dump_python(rows, mode="json"))
        return
    table = Table(
        id_column("id"), "queue", "status", "agent", id_column("run"), "trigger", "reason"
    )
    for h in rows:
        status = f"{h.status} ({h.claimed_by})" if h.claimed_by else h.status
        table.add_row(h.id, h.queue, status, h.agent, h.run_id, h.trigger, escape(h.reason[:80]))
    print_table(table)


def _show(handoff: Handoff, as_json: bool, done: str) -> None:
    if as_json:
        print_json(handoff)
    else:
        out.print(f"handoff {handoff.id} ({handoff.agent}, {handoff.queue} queue): {done}")


@app.command("claim")
def handoffs_claim(
    handoff_id: Annotated[str, typer.Argument(metavar="ID", help="The handoff's id.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Take a packet off its queue: it is yours until you resolve or reassign it.

    Exits 1 when someone else holds it or it is resolved.
    """
    from warden.control.handoffs import claim
    from warden.core.clock import SystemClock

    with open_cli_store(database_url, operator=True) as store:
        done = claim(store, handoff_id, actor=operator().actor, clock=SystemClock())
    _show(done, as_json, f"claimed by {done.claimed_by}")


@app.command("resolve")
def handoffs_resolve(
    handoff_id: Annotated[str, typer.Argument(metavar="ID", help="The handoff's id.")],
    action: Annotated[
        str,
        typer.Option(
            "--action",
            help='What you did instead of the agent, as JSON: \'{"tool": "route_ticket", '
            '"arguments": {"queue": "card_arrival"}}\', a list of those, a tool name, or null. '
            "It is recorded as the run's outcome.",
        ),
    ] = "null",
    note: Annotated[str, typer.Option(help="Your note (audited).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a packet with what you did; it counts as the run's outcome for agreement."""
    from warden.control.handoffs import resolve
    from warden.core.clock import SystemClock

    try:
        parsed: Any = json.loads(action)
    except json.JSONDecodeError:
        parsed = action  # a bare tool name
    with open_cli_store(database_url, operator=True) as store:
        done, outcome = resolve(
            store, handoff_id, parsed, actor=operator().actor, clock=SystemClock(), note=note
        )
    verdict = "agrees" if outcome.agreed else "disagrees"
    _show(done, as_json, f"resolved by {done.resolved_by}; the agent {verdict}")


@app.command("reassign")
def handoffs_reassign(
    handoff_id: Annotated[str, typer.Argument(metavar="ID", help="The handoff's id.")],
    queue: Annotated[str, typer.Option("--queue", help="The queue it goes to.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a packet to another queue, open and unclaimed."""
    from warden.control.handoffs import reassign
    from warden.core.clock import SystemClock

    with open_cli_store(database_url, operator=True) as store:
        done = reassign(
            store, handoff_id, queue, actor=operator().actor, clock=SystemClock(), reason=reason
        )
    _show(done, as_json, f"reassigned to {done.queue}")
