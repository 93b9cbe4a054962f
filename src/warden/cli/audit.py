"""``warden audit log|verify|anchor``: read the audit log, check that nobody edited it, and
keep its head somewhere else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from warden.cli.shared import DbUrl, JsonFlag, err, open_cli_store, out, print_json

if TYPE_CHECKING:
    from warden.core.audit import AuditAnchor, AuditEntry, AuditKey, ChainCheck

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
    runs: Annotated[
        bool,
        typer.Option(
            "--runs", help="Include the run.decisions entries that seal each finished run."
        ),
    ] = False,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the newest entries, oldest first: who did what, when, why, and what changed."""
    from pydantic import TypeAdapter

    from warden.core.audit import AuditEntry

    with open_cli_store(database_url) as store:
        entries = store.audit_entries(agent=agent, limit=limit, runs=runs, newest=True)
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


def _verifying_key() -> AuditKey | None:
    """The audit key if one is configured (never creates one); exit 2 when it is unusable."""
    from warden.errors import ConfigError
    from warden.sdk.settings import Settings

    try:
        return Settings.from_env().audit_key(create=False)
    except ConfigError as exc:
        err.print(f"[red]error[/]: {exc.message}", highlight=False)
        raise typer.Exit(2) from None


def _read_anchor(path: Path) -> AuditAnchor:
    from pydantic import ValidationError

    from warden.core.audit import AuditAnchor

    try:
        return AuditAnchor.model_validate_json(path.read_bytes())
    except OSError as exc:
        err.print(f"[red]error[/]: cannot read the anchor {path}: {exc.strerror}", highlight=False)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"]
        err.print(f"[red]error[/]: {path} is not an audit anchor: {first}", highlight=False)
    raise typer.Exit(2)


def _report(check: ChainCheck, *, require_mac: bool) -> bool:
    """Print the outcome for people; True when it passes."""
    if not check.intact:
        where = f"at entry {check.first_bad_seq}" if check.first_bad_seq is not None else ""
        err.print(
            f"[red]audit log BROKEN[/] {where}: {check.problem}", markup=True, highlight=False
        )
        return False
    parts = [f"audit log intact: {check.entries} entries, chain verified"]
    if check.key_id is not None:
        parts.append(f"MACs checked with audit key {check.key_id}")
    if check.anchor_seq is not None:
        parts.append(f"anchored entry {check.anchor_seq} unchanged")
    n = check.runs_checked
    parts.append(f"decisions of {n} finished run{'' if n == 1 else 's'} match")
    out.print("; ".join(parts), markup=False, highlight=False)
    if check.key_id is None:
        err.print(
            "[yellow]authenticity was NOT checked[/]: no audit key (set WARDEN_AUDIT_KEY or "
            "WARDEN_AUDIT_KEY_FILE); the hashes alone do not stop someone who can write the "
            "database from recomputing them all",
            markup=True,
            highlight=False,
        )
    elif check.unauthenticated:
        err.print(f"[yellow]note[/]: {check.warnings[-1]}", markup=True, highlight=False)
        if require_mac:
            err.print("[red]--require-mac[/]: every entry must have a MAC", markup=True)
            return False
    return True


@app.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="An anchor written by `warden audit anchor`: the log must still hold it.",
        ),
    ] = None,
    require_mac: Annotated[
        bool,
        typer.Option(
            "--require-mac", help="Fail when any entry has no MAC (written before the key)."
        ),
    ] = False,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the log: exit 0 when intact, 1 naming the first entry altered, removed or forged,
    or the first finished run whose recorded decisions changed.

    The hash chain, the order of entries and the decisions of finished runs are always
    checked; the MACs with the audit key (WARDEN_AUDIT_KEY, WARDEN_AUDIT_KEY_FILE, or
    WARDEN_HOME/audit.key when it exists).
    """
    key = _verifying_key()
    pinned = _read_anchor(anchor) if anchor is not None else None
    with open_cli_store(database_url) as store:
        check = store.check_audit(key=key, anchor=pinned)
    if as_json:
        print_json(check)
        passed = check.intact and not (require_mac and check.unauthenticated)
    else:
        passed = _report(check, require_mac=require_mac)
    if not passed:
        raise typer.Exit(1)


@app.command("anchor")
def audit_anchor(
    to: Annotated[
        Path | None, typer.Option("--to", help="Write the anchor (JSON) to this file.")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST the anchor (JSON) to this URL.")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Export the head (number, hash, MAC, time) to keep outside the database.

    The log is verified first; a broken log is not anchored (exit 1). Without --to or
    --webhook the anchor is printed. Later, `warden audit verify --anchor FILE` fails if
    the log no longer holds that entry unchanged: cut below it, or rewritten.
    """
    key = _verifying_key()
    with open_cli_store(database_url) as store:
        check = store.check_audit(key=key)
        if not check.intact:
            _report(check, require_mac=False)
            err.print("not anchored: the audit log does not verify", highlight=False)
            raise typer.Exit(1)
        anchor = store.audit_anchor()
    if to is not None:
        to.write_text(anchor.model_dump_json(indent=2) + "\n", encoding="utf-8")
        out.print(f"anchored entry {anchor.seq} ({anchor.hash[:16]}…) to {to}", markup=False)
    if webhook is not None:
        _post(webhook, anchor)
        out.print(f"anchored entry {anchor.seq} ({anchor.hash[:16]}…) to {webhook}", markup=False)
    if to is None and webhook is None:
        print_json(anchor)


def _post(url: str, anchor: AuditAnchor) -> None:
    import httpx

    try:
        response = httpx.post(url, json=anchor.model_dump(mode="json"), timeout=10.0)
    except httpx.HTTPError as exc:
        err.print(f"[red]error[/]: cannot post the anchor to {url}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    if not response.is_success:
        err.print(
            f"[red]error[/]: {url} answered {response.status_code}; not anchored",
            highlight=False,
        )
        raise typer.Exit(1)
