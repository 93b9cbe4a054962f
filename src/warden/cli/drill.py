"""``warden drill kill-switch``: practise the emergency before it happens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, actor, open_cli_store, out, print_json, spec_in_force

__all__ = ["app"]

app = typer.Typer(help="Drills: practise the emergency before it happens.", no_args_is_help=True)


@app.command("kill-switch")
def drill_kill_switch(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    keys: Annotated[int, typer.Option(min=1, max=100, help="Test routing keys.")] = 5,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reroute.")] = 5.0,
    spec_file: Annotated[Path | None, typer.Option("--spec", help="Spec file.")] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Flip the kill switch for real, check test routing keys reroute, restore, record it."""
    from warden.control.drill import kill_switch_drill
    from warden.core.clock import SystemClock

    with open_cli_store(database_url, operator=True) as store:
        spec = spec_in_force(store, agent, spec_file)
        drill = kill_switch_drill(
            store, spec, actor=actor(), clock=SystemClock(), keys=keys, timeout_s=timeout
        )
    if as_json:
        print_json(drill)
    else:
        verdict = "[green]passed[/]" if drill.passed else "[red]FAILED[/]"
        out.print(f"drill {drill.id} {verdict}: {drill.detail}", highlight=False)
    if not drill.passed:
        raise typer.Exit(1)
