"""``warden db upgrade|rebuild-rollups``: the store's schema and derived tables."""

from __future__ import annotations

import typer

from typing import Annotated

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


@app.command("rebuild-rollups")
def db_rebuild_rollups(
    agent: Annotated[str | None, typer.Option(help="Only this agent (default: all).")] = None,
    database_url: DbUrl = None,
) -> None:
    """Recompute the metrics' per-minute and per-hour rollups from the raw runs.

    Warden keeps them as runs end; rebuild after restoring raw rows from a backup or
    editing them by hand. Runs being recorded meanwhile wait for the rebuild to finish.
    """
    import time

    with open_cli_store(database_url, operator=True) as store:
        t0 = time.perf_counter()
        counted = store.rebuild_rollups(agent)
    out.print(
        f"rollups rebuilt from {counted:,} ended run(s)"
        + (f" of {agent}" if agent else "")
        + f" in {time.perf_counter() - t0:.1f} s"
    )
