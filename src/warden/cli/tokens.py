"""``warden token create|list|revoke``: API tokens for the control plane."""

from __future__ import annotations

from typing import Annotated

import typer

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    err,
    open_cli_store,
    out,
    print_json,
    print_table,
)
from warden.core.tokens import Role

__all__ = ["app"]

app = typer.Typer(help="API tokens for the control plane.", no_args_is_help=True)


@app.command("create")
def token_create(
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            help="agent (an agent's own process, with --agent) or a person's: "
            "viewer < reviewer < operator < owner < admin",
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Who or what uses it.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Bind to one agent.")] = None,
    expires_in_days: Annotated[
        float | None,
        typer.Option(
            "--expires-in-days",
            help="Lifetime in days; 0 never expires. Default: 90 for agent tokens, "
            "never for people's.",
        ),
    ] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token; its secret is printed once and never stored (only its hash)."""
    from warden.core.clock import SystemClock
    from warden.core.tokens import ApiToken, expiry, hash_token, new_token

    if role is Role.AGENT and not agent:
        err.print("an agent token must be bound to its agent: add --agent NAME")
        raise typer.Exit(2)
    now = SystemClock().now()
    try:
        expires_at = expiry(role, now, expires_in_days)
    except ValueError as exc:
        err.print(f"--expires-in-days: {exc}")
        raise typer.Exit(2) from None
    token_id, secret = new_token()
    who = actor()
    with open_cli_store(database_url) as store:
        stored = store.create_token(
            ApiToken(
                id=token_id,
                name=name or (f"agent:{agent}" if agent else who),
                role=role,
                agent=agent,
                token_hash=hash_token(secret),
                created_at=now,
                created_by=who,
                expires_at=expires_at,
            )
        )
    if as_json:
        print_json(
            {
                "id": stored.id,
                "name": stored.name,
                "role": stored.role,
                "agent": stored.agent,
                "expires_at": stored.expires_at.isoformat() if stored.expires_at else None,
                "token": secret,
            }
        )
    else:
        until = f"expires {stored.expires_at:%Y-%m-%d}" if stored.expires_at else "never expires"
        bound = f", agent {agent}" if agent else ""
        out.print(f"token {stored.id} ({stored.role.value}{bound}) for {stored.name}, {until}:")
        out.print(secret, markup=False, highlight=False)
        out.print("[dim]Shown once: store it now.[/]")


@app.command("list")
def token_list(database_url: DbUrl = None, as_json: JsonFlag = False) -> None:
    """List tokens (never their secrets)."""
    from rich.table import Table

    with open_cli_store(database_url) as store:
        tokens = store.list_tokens()
    if as_json:
        print_json([t.model_dump(mode="json", exclude={"token_hash"}) for t in tokens])
        return
    from warden.core.clock import SystemClock

    now = SystemClock().now()
    table = Table("id", "name", "role", "agent", "created by", "expires", "last used", "state")
    for t in tokens:
        state = "revoked" if t.revoked_at else "expired" if t.expired(now) else "active"
        table.add_row(
            t.id,
            t.name,
            t.role.value,
            t.agent or "",
            t.created_by,
            f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            state,
        )
    print_table(table)


@app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id.")],
    database_url: DbUrl = None,
) -> None:
    """Revoke a token at once."""
    from warden.core.clock import SystemClock

    with open_cli_store(database_url) as store:
        store.revoke_token(token_id, SystemClock().now(), actor=actor())
    out.print(f"token {token_id} revoked")
