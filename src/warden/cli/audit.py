"""``warden audit log|verify``: read the audit log and check that nobody edited it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from warden.cli.shared import DbUrl, JsonFlag, err, open_cli_store, out, print_json

if TYPE_CHECKING:
    from warden.core.audit import AuditEntry

__all__ = ["app", "describe_change"]

app = typer.Typer(
    help="The audit log: every state-changing act, hash-chained.", no_args_is_help=True
)


def describe_change(entry: AuditEntry) -> str:
    """The fields that changed, as ``field: before -> after`` (plain text, for people)."""
    before: Any = json.loads(entry.before)
    after: Any = json.loads(entry.after)
    if not isinstance(before, dict) or not isinstance(after, dict):
        return "" if before == after else f"{_short(before)} -> {_short(after)}"
    b: dict[str, Any] = before  # pyright: ignore[reportUnknownVariableType]
    a: dict[str, Any] = after  # pyright: ignore[reportUnknownVariableType]
    keys = [k for k in sorted(set(b) | set(a)) if b.get(k) != a.get(k)]
    return "; ".join(f"{k}: {_short(b.get(k))} -> {_short(a.get(k))}" for k in keys)


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command("log")
def audit_log(
    agent: Annotated[str | None, typer.Option(help="Only acts on this agent.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to show.")] = 50,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the newest entries, oldest first: who did what, when, why, and what changed."""
    from pydantic import TypeAdapter

    from warden.core.audit import AuditEntry

    with open_cli_store(database_url) as store:
        if agent is None:
            after = max(0, store.audit_head().seq - limit)
            entries = store.list_audit(after_seq=after)
        else:
            entries = store.list_audit(agent=agent)
    entries = entries[-limit:]
    if as_json:
        print_json(TypeAdapter(list[AuditEntry]).dump_python(entries, mode="json"))
        return
    for e in entries:
        target = " ".join(x for x in (e.agent, e.subject) if x)
        change = describe_change(e)
        out.print(
            f"#{e.seq} {e.at:%Y-%m-%d %H:%M:%S} {e.actor} {e.action}"
            + (f" {target}" if target else "")
            + (f": {e.reason}" if e.reason else "")
            + (f" ({change})" if change else ""),
            markup=False,
            highlight=False,
        )


@app.command("verify")
def audit_verify(database_url: DbUrl = None, as_json: JsonFlag = False) -> None:
    """Check the hash chain: exit 0 when intact, 1 naming the first entry altered or removed."""
    with open_cli_store(database_url) as store:
        check = store.verify_audit()
    if as_json:
        print_json(check)
    elif check.intact:
        out.print(f"audit log intact: {check.entries} entries, chain verified")
    else:
        err.print(
            f"[red]audit log BROKEN[/] at entry {check.first_bad_seq}: {check.problem}",
            markup=True,
            highlight=False,
        )
    if not check.intact:
        raise typer.Exit(1)
