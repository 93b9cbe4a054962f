"""``warden monitor``: kill criteria, incident escalation and auto-advance, in a loop."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, open_cli_store, out, print_json

__all__ = ["app", "monitor"]

app = typer.Typer()


@app.command("monitor")
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
    from warden.control.monitor import monitor_once
    from warden.core.clock import SystemClock
    from warden.integrations.pagers import HttpPager
    from warden.sdk.settings import Settings

    pager = HttpPager()
    clock = SystemClock()
    with open_cli_store(database_url, operator=True) as store:
        retention = Settings.from_env(database_url).retention_days
        while True:
            events = monitor_once(store, clock, pager, agents or None, retention_days=retention)
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
