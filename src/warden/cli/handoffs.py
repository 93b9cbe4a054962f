"""``warden handoffs list``: the human queue, runs handed to people."""

from __future__ import annotations

from typing import Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, id_column, open_cli_store, print_json, print_table

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
    table = Table(id_column("id"), "queue", "agent", id_column("run"), "trigger", "reason")
    for h in rows:
        table.add_row(h.id, h.queue, h.agent, h.run_id, h.trigger, escape(h.reason[:80]))
    print_table(table)
