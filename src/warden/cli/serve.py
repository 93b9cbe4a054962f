"""``warden serve`` (the control plane) and ``warden token create|list|revoke``."""

from __future__ import annotations

import gc
import ipaddress
from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from warden.cli.shared import DbUrl, JsonFlag, actor, err, open_cli_store, out, print_json
from warden.core.clock import SystemClock
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.sdk.settings import Settings
from warden.server import create_app
from warden.store import open_store

__all__ = ["serve", "token_app"]

token_app = typer.Typer(help="API tokens for the control plane.", no_args_is_help=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8700,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="No tokens (loopback only).")] = False,
    database_url: DbUrl = None,
) -> None:
    """Run the API, OTLP ingest and dashboard on uvicorn against the store."""
    if no_auth and not _is_loopback(host):
        err.print(f"[red]error[/]: --no-auth only binds to loopback, not {host}")
        raise typer.Exit(2)
    store = open_store(Settings.from_env(database_url).database_url)
    app = create_app(store, auth=not no_auth)
    # Move everything allocated at start-up out of the garbage collector's view, so full
    # collections stay short under load (bench/README.md, ingest: p99 98.6 -> 38.3 ms with
    # 500-span OTLP exports). Python docs, gc.freeze().
    gc.freeze()
    out.print(f"Warden control plane on http://{host}:{port}  (API docs at /docs)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        store.close()


@token_app.command("create")
def token_create(
    role: Annotated[
        Role, typer.Option("--role", help="viewer < reviewer < operator < owner < admin")
    ],
    name: Annotated[str | None, typer.Option("--name", help="Who or what uses it.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Bind to one agent.")] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token; its secret is printed once and never stored (only its hash)."""
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
                created_at=SystemClock().now(),
                created_by=who,
            )
        )
    if as_json:
        print_json(
            {
                "id": stored.id,
                "name": stored.name,
                "role": stored.role,
                "agent": stored.agent,
                "token": secret,
            }
        )
    else:
        out.print(
            f"token {stored.id} ({stored.role.value}{', agent ' + agent if agent else ''}) for {stored.name}:"
        )
        out.print(secret, markup=False, highlight=False)
        out.print("[dim]Shown once: store it now.[/]")


@token_app.command("list")
def token_list(database_url: DbUrl = None, as_json: JsonFlag = False) -> None:
    """List tokens (never their secrets)."""
    with open_cli_store(database_url) as store:
        tokens = store.list_tokens()
    if as_json:
        print_json([t.model_dump(mode="json", exclude={"token_hash"}) for t in tokens])
        return
    table = Table("id", "name", "role", "agent", "created by", "revoked")
    for t in tokens:
        table.add_row(
            t.id, t.name, t.role.value, t.agent or "", t.created_by, "yes" if t.revoked_at else ""
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id.")],
    database_url: DbUrl = None,
) -> None:
    """Revoke a token at once."""
    with open_cli_store(database_url) as store:
        store.revoke_token(token_id, SystemClock().now(), actor=actor())
    out.print(f"token {token_id} revoked")
