"""``warden incidents list|show|ack|resolve``: incidents opened by kill criteria."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, actor, open_cli_store, out, print_json
from warden.core.incidents import IncidentStatus

if TYPE_CHECKING:
    from warden.core.incidents import Incident

__all__ = ["app"]

app = typer.Typer(help="Incidents opened by kill criteria.", no_args_is_help=True)

_PAGES_SHOWN = 1000
"""Page deliveries ``incidents show`` lists at most (the first, oldest first)."""

IncidentId = Annotated[str, typer.Argument(help="Incident id.")]


def _line(i: Incident) -> str:
    ack = f", acknowledged by {i.acked_by}" if i.acked_by else ""
    esc = ", backup paged" if i.escalated_at else ""
    return f"{i.id} {i.opened_at:%Y-%m-%d %H:%M} {i.status.value}{ack}{esc}: {i.summary}"


@app.command("list")
def incidents_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    status: Annotated[IncidentStatus | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Incidents, newest first (the newest ``--limit``)."""
    from pydantic import TypeAdapter

    from warden.core.incidents import Incident

    with open_cli_store(database_url) as store:
        rows = store.list_incidents(agent, status=status, limit=limit)
    if as_json:
        print_json(TypeAdapter(list[Incident]).dump_python(rows, mode="json"))
        return
    for i in rows:
        out.print(_line(i), markup=False, highlight=False)


@app.command("show")
def incidents_show(
    incident_id: IncidentId, database_url: DbUrl = None, as_json: JsonFlag = False
) -> None:
    """One incident and every page sent about it."""
    from warden.errors import NotFoundError

    with open_cli_store(database_url) as store:
        incident = store.get_incident(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        pages = store.list_pages(incident_id=incident_id, limit=_PAGES_SHOWN)
    if as_json:
        print_json(
            {
                "incident": incident.model_dump(mode="json"),
                "pages": [p.model_dump(mode="json") for p in pages],
            }
        )
        return
    out.print(_line(incident), markup=False, highlight=False)
    for p in pages:
        state = "delivered" if p.delivered else f"NOT delivered ({p.error})"
        what = "page" if p.event_action == "trigger" else p.event_action
        out.print(
            f"  {what} to {p.recipient} via {p.channel} {p.target}: {state}",
            markup=False,
            highlight=False,
        )


def _update(
    incident_id: str, status: IncidentStatus, reason: str, database_url: str | None, as_json: bool
) -> None:
    """Acknowledge or resolve, then tell the incident's PagerDuty channels (recorded)."""
    from warden.control.paging import set_incident_status
    from warden.core.clock import SystemClock
    from warden.integrations.pagers import HttpPager

    with open_cli_store(database_url, operator=True) as store:
        update = set_incident_status(
            store,
            incident_id,
            status,
            actor=actor(),
            clock=SystemClock(),
            reason=reason,
            pager=HttpPager(),
        )
    if as_json:
        print_json(update.incident)
        return
    out.print(_line(update.incident), markup=False, highlight=False)
    for p in update.deliveries:
        state = "delivered" if p.delivered else f"NOT delivered ({p.error})"
        out.print(
            f"  {p.event_action} sent via {p.channel} {p.target}: {state}",
            markup=False,
            highlight=False,
        )


@app.command("ack")
def incidents_ack(
    incident_id: IncidentId,
    reason: Annotated[str, typer.Option("--reason", help="Note (recorded).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Acknowledge: you are on it (stops the escalation to the backup owner; PagerDuty
    channels get an ``acknowledge`` event)."""
    _update(incident_id, IncidentStatus.ACKNOWLEDGED, reason, database_url, as_json)


@app.command("resolve")
def incidents_resolve(
    incident_id: IncidentId,
    reason: Annotated[str, typer.Option("--reason", help="What fixed it (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Resolve: the criterion may open a new incident if it trips again (PagerDuty channels
    get a ``resolve`` event)."""
    _update(incident_id, IncidentStatus.RESOLVED, reason, database_url, as_json)
