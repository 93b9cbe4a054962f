"""``warden page test``: a test page to every on-call channel of an agent (webhook, Slack,
PagerDuty, and email over SMTP with ``WARDEN_SMTP_*``). Readiness' ``oncall`` item passes
once every channel has had one delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    err,
    exit_on_spec_error,
    open_cli_store,
    out,
    print_json,
    spec_in_force,
)
from warden.errors import SpecError

__all__ = ["app"]

app = typer.Typer(help="The on-call channels.", no_args_is_help=True)


@app.command("test")
def page_test(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    spec_file: Annotated[
        Path | None, typer.Option("--spec", help="Spec file (default: the version in rollout).")
    ] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a test page to every on-call channel, the backup owner's too (exit 1 if any was
    not delivered)."""
    from warden.control.paging import send_test_page
    from warden.core.clock import SystemClock
    from warden.integrations.pagers import HttpPager

    with open_cli_store(database_url, operator=True) as store:
        try:
            spec = spec_in_force(store, agent, spec_file)
        except SpecError as exc:
            exit_on_spec_error(exc)
        deliveries = send_test_page(store, spec, HttpPager(), SystemClock())
    if as_json:
        print_json([d.model_dump(mode="json") for d in deliveries])
    else:
        if not deliveries:
            err.print(f"{agent} has no on-call channels (spec.oncall.channels)")
        for d in deliveries:
            state = "delivered" if d.delivered else f"NOT delivered ({d.error})"
            out.print(f"{d.channel} {d.target}: {state}", markup=False, highlight=False)
        if deliveries and not all(d.delivered for d in deliveries):
            err.print(
                "readiness' oncall item needs a test page delivered to every channel: fix "
                "the ones not delivered and run this again"
            )
    if not deliveries or not all(d.delivered for d in deliveries):
        raise typer.Exit(1)
