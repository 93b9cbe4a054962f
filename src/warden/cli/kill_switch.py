"""``warden kill`` and ``warden unkill``: the kill switch, for the person on call.

Kept to the store and the core's clock: ``warden kill`` is what someone types at 2 a.m.
A kill of an agent the store has never seen (``ControlStore.agent_seen``: no spec version
or spec change, no run, no rollout, no kill switch) is most likely a typo, which would
leave the real agent running: it is refused (exit 2, naming the close matches) unless
``--force``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    err,
    open_cli_store,
    operator,
    out,
    print_json,
)

if TYPE_CHECKING:
    from warden.core.ports import ControlStore

__all__ = ["app", "kill", "unkill"]

app = typer.Typer()


@app.command("kill")
def kill(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Engage it even if the store has never seen this agent (a new one)."
        ),
    ] = False,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Engage the kill switch: new runs and in-flight runs stop before their next call.

    Idempotent: killing a killed agent changes nothing (the first reason stays). An agent
    the store has never seen (no spec version, run, rollout or kill switch) is refused with
    exit 2, naming the close matches, unless ``--force``.
    """
    from warden.core.clock import SystemClock

    with open_cli_store(database_url, operator=True) as store:
        if not store.agent_seen(agent):
            _never_seen(store, agent, force=force)
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
    On this CLI a person is the OS user running it: ``WARDEN_ACTOR`` labels the act but
    cannot make one user two. An agent the store has never seen is refused with exit 2.
    """
    from warden.control.killswitch import unkill as release_switch
    from warden.core.clock import SystemClock

    who = operator()
    with open_cli_store(database_url, operator=True) as store:
        if not store.agent_seen(agent):
            _never_seen(store, agent, force=False, verb="release")
        result = release_switch(
            store, agent, actor=who.actor, reason=reason, clock=SystemClock(), principal=who.key
        )
    if as_json:
        print_json(result)
    else:
        out.print(result.message)


def _never_seen(store: ControlStore, agent: str, *, force: bool, verb: str = "engage") -> None:
    """Warn (``--force``), or refuse with exit 2 naming the known agents closest to ``agent``."""
    from difflib import get_close_matches

    from rich.markup import escape

    what = (
        f"the store has never seen an agent named {agent!r} "
        "(no spec version, run, rollout or kill switch)"
    )
    if force:
        err.print(f"[yellow]warning[/]: {escape(what)}; engaging it anyway (--force)")
        return
    known = store.seen_agents()
    close = get_close_matches(agent, known, n=3, cutoff=0.6)
    if close:
        hint = f"did you mean {' or '.join(close)}?"
    elif known:
        shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        hint = f"known agents: {shown}"
    else:
        hint = "it knows no agent yet: is this the right store?"
    then = (
        f"Check the name and the store, or pass --force to engage the kill switch of "
        f"{escape(agent)} anyway (an agent that has not run yet)."
        if verb == "engage"
        else "Check the name and the store: there is no kill switch to release."
    )
    err.print(f"[red]refused[/]: {escape(what)}: {escape(hint)}\n{then}", highlight=False)
    raise typer.Exit(2)
