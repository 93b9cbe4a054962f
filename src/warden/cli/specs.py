"""``warden spec apply|approve|changes``: store spec versions and approve expansions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    exit_on_spec_error,
    open_cli_store,
    out,
    print_json,
)
from warden.control.scope import apply_spec, approve_spec
from warden.core.clock import SystemClock
from warden.core.scope import ChangeKind, ChangeStatus, SpecChange
from warden.core.spec_loader import load_spec
from warden.errors import SpecError

__all__ = ["spec_apply", "spec_approve", "spec_changes"]

_COLOUR = {ChangeKind.EXPANSION: "red", ChangeKind.CONTRACTION: "green"}


def _describe(change: SpecChange) -> None:
    out.print(
        f"{change.agent} {change.version} ({change.to_hash[:12]}): [bold]{change.kind.value}[/], "
        f"{change.status.value}",
        highlight=False,
    )
    for item in change.items:
        colour = _COLOUR.get(item.kind, "dim")
        out.print(
            f"  [{colour}]{item.kind.value:11}[/] {item.path}: {item.detail}", highlight=False
        )


def spec_apply(
    file: Annotated[Path, typer.Argument(help="Agent spec YAML file.")],
    override_stability: Annotated[
        bool, typer.Option("--override-stability", help="Expand inside the stability window.")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Store a new spec version: contractions apply at once, expansions wait for approval."""
    try:
        spec = load_spec(file)
    except SpecError as exc:
        exit_on_spec_error(exc)
    with open_cli_store(database_url) as store:
        change = apply_spec(
            store,
            spec,
            actor=actor(),
            clock=SystemClock(),
            override_stability=override_stability,
            reason=reason,
        )
    if as_json:
        print_json(change)
        return
    _describe(change)
    if change.status is ChangeStatus.PENDING:
        out.print(
            f"pending: an owner other than {change.applied_by} must run "
            f"`warden spec approve {change.to_hash[:12]}`; until then the version in force "
            "keeps running and this one falls back"
        )


def spec_approve(
    version: Annotated[str, typer.Argument(help="Change id or content hash (prefix).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending expansion (an owner other than the person who applied it)."""
    with open_cli_store(database_url) as store:
        change = approve_spec(store, version, actor=actor(), clock=SystemClock(), reason=reason)
    if as_json:
        print_json(change)
    else:
        out.print(
            f"{change.agent} {change.version} ({change.to_hash[:12]}) approved by "
            f"{change.approved_by}: it is now the version in force",
            highlight=False,
        )


def spec_changes(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Every apply of the agent's spec, oldest first."""
    with open_cli_store(database_url) as store:
        changes = store.list_spec_changes(agent)
    if as_json:
        print_json(TypeAdapter(list[SpecChange]).dump_python(changes, mode="json"))
        return
    for c in changes:
        who = c.applied_by + (f", approved by {c.approved_by}" if c.approved_by else "")
        out.print(
            f"{c.created_at:%Y-%m-%d %H:%M} {c.version} ({c.to_hash[:12]}) {c.kind.value} "
            f"{c.status.value} ({who})",
            highlight=False,
        )
