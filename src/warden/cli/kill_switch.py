"""``warden kill`` and ``warden unkill``: the kill switch, for the person on call.

Kept to the store and the core's clock: ``warden kill`` is what someone types at 2 a.m.
"""

from __future__ import annotations

from typing import Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, actor, open_cli_store, out, print_json

__all__ = ["app", "kill", "unkill"]

app = typer.Typer()


@app.command("kill")
def kill(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Engage the kill switch: new runs and in-flight runs stop before their next call.

    Idempotent: killing a killed agent changes nothing (the first reason stays).
    """
    from warden.core.clock import SystemClock

    with open_cli_store(database_url) as store:
        state = store.set_kill_switch(
            agent, engaged=True, reason=reason, actor=actor(), at=SystemClock().now()
        )
    if as_json:
        print_json(state)
    elif state.engaged:
        out.print(f"kill switch [bold red]ENGAGED[/] for {agent} by {state.actor}: {state.reason}")
    else:
        out.print(f"kill switch released for {agent} by {state.actor}: {state.reason}")


@app.command("unkill")
def unkill(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Turn the agent back on: the first person asks, a different person approves.

    Engaging needs nobody's approval; releasing is a scope expansion and needs two people.
    """
    from warden.control.killswitch import unkill as release_switch
    from warden.core.clock import SystemClock

    with open_cli_store(database_url) as store:
        result = release_switch(store, agent, actor=actor(), reason=reason, clock=SystemClock())
    if as_json:
        print_json(result)
    else:
        out.print(result.message)
