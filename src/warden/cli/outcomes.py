"""``warden outcomes record``: what a person actually did, against the shadow proposal."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    open_cli_store,
    out,
    print_json,
    resolve_run_id,
)

__all__ = ["app"]

app = typer.Typer(
    help="What people actually did, compared with shadow proposals.", no_args_is_help=True
)


@app.command("record")
def outcomes_record(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    key: Annotated[str, typer.Argument(help="Run id (or its unique start), or routing key.")],
    action: Annotated[
        str,
        typer.Option(
            "--action",
            help='What the person did, as JSON: \'{"tool": "route_ticket", "arguments": '
            '{"queue": "card_arrival"}}\', a list of those, a tool name, or null.',
        ),
    ],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a person's actual action for a run and compare it with the agent's proposal.

    ``KEY`` is a run id, else a routing key (its newest shadow run), else the unique start
    of a run id (several: exit 2, listing them).
    """
    from warden.control.outcomes import record_outcome
    from warden.core.clock import SystemClock
    from warden.errors import NotFoundError

    try:
        parsed: Any = json.loads(action)
    except json.JSONDecodeError:
        parsed = action  # a bare tool name
    with open_cli_store(database_url, operator=True) as store:
        try:
            outcome = record_outcome(store, agent, key, parsed, actor=actor(), clock=SystemClock())
        except NotFoundError:
            if not store.find_run_ids(key, 1):
                raise
            run_id = resolve_run_id(store, key)
            if run_id == key:
                raise
            outcome = record_outcome(
                store, agent, run_id, parsed, actor=actor(), clock=SystemClock()
            )
    if as_json:
        print_json(outcome)
    else:
        verdict = "[green]agrees[/]" if outcome.agreed else "[red]disagrees[/]"
        out.print(f"run {outcome.run_id} ({outcome.spec_version}): the agent {verdict}")
