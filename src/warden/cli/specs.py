"""``warden spec validate|show|apply|approve|changes``: check agent specs, store spec
versions and approve expansions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    exit_on_spec_error,
    open_cli_store,
    operator,
    out,
    print_json,
)
from warden.errors import SpecError

if TYPE_CHECKING:
    from warden.core.scope import SpecChange

__all__ = ["app", "spec_apply", "spec_approve", "spec_changes", "spec_show", "spec_validate"]

app = typer.Typer(help="Validate, show, apply and approve agent specs.", no_args_is_help=True)


def _describe(change: SpecChange) -> None:
    from warden.core.scope import ChangeKind

    colours = {ChangeKind.EXPANSION: "red", ChangeKind.CONTRACTION: "green"}
    out.print(
        f"{change.agent} {change.version} ({change.to_hash[:12]}): [bold]{change.kind.value}[/], "
        f"{change.status.value}",
        highlight=False,
    )
    for item in change.items:
        colour = colours.get(item.kind, "dim")
        out.print(
            f"  [{colour}]{item.kind.value:11}[/] {item.path}: {item.detail}", highlight=False
        )


@app.command("apply")
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
    from warden.control.scope import apply_spec
    from warden.core.clock import SystemClock
    from warden.core.scope import ChangeStatus
    from warden.core.spec_loader import load_spec

    try:
        spec = load_spec(file)
    except SpecError as exc:
        exit_on_spec_error(exc)
    who = operator()
    with open_cli_store(database_url, operator=True) as store:
        change = apply_spec(
            store,
            spec,
            actor=who.actor,
            principal=who.key,
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


@app.command("approve")
def spec_approve(
    version: Annotated[str, typer.Argument(help="Change id or content hash (prefix).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending expansion (an owner other than the person who applied it).

    The approver names themselves with ``WARDEN_ACTOR`` (an owner's address) but must be a
    different OS user from the one who applied it: a label cannot make one user two.
    """
    from warden.control.scope import approve_spec
    from warden.core.clock import SystemClock

    who = operator()
    with open_cli_store(database_url, operator=True) as store:
        change = approve_spec(
            store,
            version,
            actor=who.actor,
            principal=who.key,
            clock=SystemClock(),
            reason=reason,
        )
    if as_json:
        print_json(change)
    else:
        out.print(
            f"{change.agent} {change.version} ({change.to_hash[:12]}) approved by "
            f"{change.approved_by}: it is now the version in force",
            highlight=False,
        )


@app.command("changes")
def spec_changes(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Every apply of the agent's spec, oldest first."""
    from pydantic import TypeAdapter

    from warden.core.scope import SpecChange

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


@app.command("validate")
def spec_validate(
    files: Annotated[list[Path], typer.Argument(help="Agent spec YAML files.")],
    as_json: JsonFlag = False,
) -> None:
    """Validate agent specs: exit 0 when all are valid, 2 listing every problem when not."""
    from warden.core.spec_loader import load_spec

    problems: list[dict[str, Any]] = []
    for file in files:
        try:
            spec = load_spec(file)
        except SpecError as exc:
            problems += exc.to_dict()["problems"]
            if not as_json:
                for p in exc.problems:
                    out.print(str(p), markup=False, highlight=False)
            continue
        if not as_json:
            out.print(
                f"{file}: valid ({spec.name} {spec.metadata.version}, {len(spec.spec.tools)} tools)",
                markup=False,
            )
    if as_json:
        print_json({"valid": not problems, "problems": problems})
    if problems:
        raise typer.Exit(2)


@app.command("show")
def spec_show(
    file: Annotated[Path, typer.Argument(help="Agent spec YAML file.")],
    as_json: JsonFlag = False,
) -> None:
    """Print the normalised spec (defaults filled in) and its content hash."""
    from rich.table import Table

    from warden.core.spec_loader import load_spec

    try:
        spec = load_spec(file)
    except SpecError as exc:
        exit_on_spec_error(exc)
    if as_json:
        print_json(spec)
        return
    m = spec.metadata
    out.print(f"[bold]{m.name}[/] {m.version}  owner {m.owner}, backup {m.backup_owner}")
    out.print(f"runbook: {m.runbook}\ncontent hash: {spec.content_hash()}\n")
    out.print(f"[bold]Scope[/] ({len(spec.spec.scope.split())} words): {spec.spec.scope}")
    for item in spec.spec.out_of_scope:
        out.print(f"  never: {item}")
    table = Table("tool", "access", "idempotent", "flags", "constraints", title="Tools")
    for name, tool in spec.spec.tools.items():
        flags = ", ".join(
            f
            for f, on in (("untrusted output", tool.untrusted_output), ("egress", tool.egress))
            if on
        )
        cons = ", ".join(tool.arguments) + (
            f"; approval when {tool.approval_when}" if tool.approval_when else ""
        )
        table.add_row(name, tool.access.value, "yes" if tool.idempotent else "no", flags, cons)
    out.print(table)
