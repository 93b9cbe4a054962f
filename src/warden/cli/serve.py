"""``warden serve``: the control plane (API, OTLP ingest, dashboard) on uvicorn.

The server, FastAPI and uvicorn are imported when the command runs, never by the rest of
the CLI.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from warden.cli.shared import DbUrl, err, out

__all__ = ["app", "serve"]

app = typer.Typer()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8700,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="No tokens (loopback only).")] = False,
    max_concurrency: Annotated[
        int,
        typer.Option(min=1, help="Connections or in-flight requests served at once; more get 503."),
    ] = 256,
    header_timeout: Annotated[
        float,
        typer.Option(
            min=0.1, help="Seconds a client has to send a request's headers before it is cut off."
        ),
    ] = 10.0,
    database_url: DbUrl = None,
) -> None:
    """Run the API, OTLP ingest and dashboard on uvicorn against the store.

    No client can hold the server: connections and in-flight requests are capped
    (``--max-concurrency``, 503 beyond), a request head must arrive within
    ``--header-timeout`` seconds, request heads are at most 16 KiB and bodies 16 MiB
    (``server.http_limits``, ``server.body_limit``)."""
    if no_auth and not _is_loopback(host):
        err.print(f"[red]error[/]: --no-auth only binds to loopback, not {host}")
        raise typer.Exit(2)
    import gc

    import uvicorn

    from warden.sdk.settings import Settings
    from warden.server.app import create_app
    from warden.server.http_limits import with_header_timeout
    from warden.store import open_store

    settings = Settings.from_env(database_url)
    store = open_store(settings.database_url, audit_key=settings.audit_key(create=False))
    server_app = create_app(store, auth=not no_auth)
    # Move everything allocated at start-up out of the garbage collector's view, so full
    # collections stay short under load (bench/README.md, ingest: p99 98.6 -> 38.3 ms with
    # 500-span OTLP exports). Python docs, gc.freeze().
    gc.freeze()
    out.print(f"Warden control plane on http://{host}:{port}  (API docs at /docs)")
    try:
        uvicorn.run(
            server_app,
            host=host,
            port=port,
            log_level="info",
            http=with_header_timeout(header_timeout),
            limit_concurrency=max_concurrency,
            h11_max_incomplete_event_size=16 * 1024,
        )
    finally:
        store.close()
