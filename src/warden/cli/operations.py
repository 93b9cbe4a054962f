"""``warden drill kill-switch`` and ``warden monitor``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from warden.cli.incidents import spec_in_force
from warden.cli.shared import DbUrl, JsonFlag, actor, open_cli_store, out, print_json
from warden.control.drill import kill_switch_drill
from warden.control.monitor import monitor_once
from warden.core.clock import SystemClock
from warden.integrations.pagers import HttpPager

__all__ = ["drill_app", "monitor"]

drill_app = typer.Typer(
    help="Drills: practise the emergency before it happens.", no_args_is_help=True
)


@drill_app.command("kill-switch")
def drill_kill_switch(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    keys: Annotated[int, typer.Option(min=1, max=100, help="Test routing keys.")] = 5,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reroute.")] = 5.0,
    spec_file: Annotated[Path | None, typer.Option("--spec", help="Spec file.")] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Flip the kill switch for real, check test routing keys reroute, restore, record it."""
    with open_cli_store(database_url) as store:
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


def monitor(
    agents: Annotated[
        list[str] | None, typer.Argument(help="Agents (default: all in rollout).")
    ] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between passes.")] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate kill criteria, escalate unacknowledged incidents, auto-advance: in a loop."""
    pager = HttpPager()
    clock = SystemClock()
    with open_cli_store(database_url) as store:
        while True:
            events = monitor_once(store, clock, pager, agents or None)
            if as_json:
                print_json([e.model_dump(mode="json") for e in events])
            for e in [] if as_json else events:
                out.print(
                    f"{clock.now():%H:%M:%S} {e.agent} {e.kind}: {e.detail}",
                    markup=False,
                    highlight=False,
                )
            if once:
                return
            time.sleep(interval)
