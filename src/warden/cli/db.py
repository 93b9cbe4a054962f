"""``warden db upgrade``: the store's schema."""

from __future__ import annotations

import typer

from warden.cli.shared import DbUrl, open_cli_store, out

__all__ = ["app"]

app = typer.Typer(help="The store's schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(database_url: DbUrl = None) -> None:
    """Create or migrate the store's schema to the newest revision."""
    with open_cli_store(database_url) as store:
        out.print(
            f"store at {store.url.render_as_string(hide_password=True)} is at the newest schema"
        )
