"""``warden db upgrade|rebuild-rollups|prune``: the store's schema, derived tables and
retention."""

from __future__ import annotations

from typing import Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, err, open_cli_store, out, print_json

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


@app.command("prune")
def db_prune(
    older_than_days: Annotated[
        float | None,
        typer.Option(
            "--older-than-days",
            help="Remove runs that ended more than this many days ago, whatever the specs say.",
        ),
    ] = None,
    agent: Annotated[list[str] | None, typer.Option(help="Only this agent (repeatable).")] = None,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Runs per transaction.")] = 5_000,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove raw runs past their retention (``spec.retention.raw_days``, else
    ``WARDEN_RETENTION_DAYS``), in batches.

    Their tool calls, model calls, approvals, closed handoffs and idempotency keys go with
    them; runs with an open handoff stay. The metrics' rollups, incidents, outcomes and the
    audit chain are kept, and each batch is recorded in the audit log (``store.pruned``).
    """
    from warden.control.retention import prune
    from warden.core.clock import SystemClock
    from warden.sdk.settings import Settings

    with open_cli_store(database_url, operator=True) as store:
        settings = Settings.from_env(database_url)  # after the store: its errors exit 1
        try:
            results = prune(
                store,
                SystemClock(),
                agents=agent or None,
                older_than_days=older_than_days,
                default_days=settings.retention_days,
                batch=batch,
                actor=settings.actor,
            )
        except ValueError as exc:
            err.print(f"[red]refused[/]: {exc}")
            raise typer.Exit(2) from None
    if as_json:
        print_json([r.model_dump(mode="json") for r in results])
        return
    if not results:
        out.print(
            "no agent has a retention (spec.retention or WARDEN_RETENTION_DAYS): nothing to do"
        )
    for r in results:
        out.print(
            f"{r.agent}: {r.runs:,} run(s) that ended before {r.ended_before:%Y-%m-%d %H:%M} UTC "
            f"removed ({r.days:g} days)",
            highlight=False,
        )
