"""``warden runs list|show|reap``: runs and their decision trail in plain language.

``runs show`` takes a run id or any unique start of one; ``runs list`` never cuts an id.
"""

from __future__ import annotations

from typing import Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    err,
    id_column,
    open_cli_store,
    out,
    print_json,
    print_table,
    resolve_run_id,
)
from warden.core.runs import RunMode, RunStatus

__all__ = ["app"]

app = typer.Typer(help="List and explain runs.", no_args_is_help=True)


@app.command("list")
def runs_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Only this terminal state.")] = None,
    mode: Annotated[RunMode | None, typer.Option(help="live or shadow.")] = None,
    overridden: Annotated[
        bool,
        typer.Option(
            "--overridden", help="Only runs whose mode was forced past the rollout (mode=)."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List runs, newest first (a mode forced past the rollout shows as ``live!``)."""
    from pydantic import TypeAdapter
    from rich.markup import escape
    from rich.table import Table

    from warden.core.runs import RunFilter, RunRecord

    with open_cli_store(database_url) as store:
        rows = store.list_runs(
            RunFilter(
                agent=agent,
                status=status,
                mode=mode,
                mode_override=True if overridden else None,
                limit=limit,
            )
        )
    if as_json:
        print_json(TypeAdapter(list[RunRecord]).dump_python(rows, mode="json"))
        return
    table = Table(
        id_column("run"), "agent", "mode", "state", "started (UTC)", "steps", "cost $", "why"
    )
    for r in rows:
        colour = {"resolved": "green", "escalated": "yellow", "running": "cyan"}.get(
            r.status.value, "red"
        )
        table.add_row(
            r.id,
            r.agent,
            r.mode.value + ("!" if r.mode_override else ""),
            f"[{colour}]{r.status.value}[/]",
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            str(r.steps),
            f"{r.cost_usd:.4f}",
            escape((r.reason or "")[:60]),
        )
    print_table(table)


@app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id, or its start when that is unique.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Explain one run: its input, each step with the policy's decision, and how it ended.

    A start of a run id names the one run whose id starts with it (several: exit 2, listing
    them; none: exit 1).
    """
    from warden.core.explain import explain_run

    with open_cli_store(database_url) as store:
        detail = store.get_run(run_id)
        if detail is None:
            run_id = resolve_run_id(store, run_id)
            detail = store.get_run(run_id)
    if detail is None:
        err.print(f"[red]error[/]: no run {run_id!r}")
        raise typer.Exit(1)
    if as_json:
        print_json(detail)
        return
    for line in explain_run(detail):
        out.print(line, markup=False, highlight=False)


@app.command("reap")
def runs_reap(
    stale_after: Annotated[float, typer.Option(help="Seconds without a heartbeat.")] = 30.0,
    database_url: DbUrl = None,
) -> None:
    """Mark runs whose process died (stale heartbeat) as ``interrupted``."""
    from warden.core.clock import SystemClock
    from warden.runtime.heartbeat import reap_interrupted

    with open_cli_store(database_url, operator=True) as store:
        ids = reap_interrupted(store, SystemClock(), stale_after)
    out.print(f"{len(ids)} run(s) marked interrupted" + (": " + ", ".join(ids) if ids else ""))
