"""``warden readiness AGENT``: the readiness review, each item pass or fail with its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    exit_on_spec_error,
    open_cli_store,
    out,
    print_json,
)
from warden.errors import ControlError, SpecError

__all__ = ["app", "readiness_cmd"]

app = typer.Typer()


@app.command("readiness")
def readiness_cmd(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", help="Review this spec file instead of the version in rollout."),
    ] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """The readiness review: exit 0 when every item passes, 1 listing the fixes when not."""
    from warden.control.gates import readiness, spec_of
    from warden.core.clock import SystemClock
    from warden.core.readiness import CheckStatus
    from warden.core.spec_loader import load_spec

    with open_cli_store(database_url) as store:
        if spec_file is not None:
            try:
                spec = load_spec(spec_file)
            except SpecError as exc:
                exit_on_spec_error(exc)
        else:
            state = store.get_rollout(agent)
            if state is None:
                raise ControlError(f"{agent} has no rollout; pass --spec FILE to review a spec")
            spec = spec_of(store, agent, state.spec_hash)
        report = readiness(store, spec, SystemClock())
    if as_json:
        print_json(report.model_dump(mode="json") | {"passed": report.passed})
    else:
        out.print(f"[bold]readiness of {report.agent} {report.spec_version}[/]")
        for item in report.items:
            mark = "[green]pass[/]" if item.status is CheckStatus.PASS else "[red]fail[/]"
            out.print(f"  {mark} {item.name}: {item.detail}", highlight=False)
            if item.fix:
                out.print(f"       fix: {item.fix}", markup=False, highlight=False)
        out.print("ready" if report.passed else f"not ready: {len(report.failing)} item(s) fail")
    if not report.passed:
        raise typer.Exit(1)
