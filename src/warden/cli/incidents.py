"""``warden incidents list|show|ack|resolve`` and ``warden page test``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter

from warden.cli.shared import (
    DbUrl,
    JsonFlag,
    actor,
    err,
    exit_on_spec_error,
    open_cli_store,
    out,
    print_json,
)
from warden.control.gates import spec_of
from warden.control.paging import send_test_page
from warden.core.clock import SystemClock
from warden.core.incidents import Incident, IncidentStatus
from warden.core.ports import Store
from warden.core.spec import AgentSpec
from warden.core.spec_loader import load_spec
from warden.errors import ControlError, NotFoundError, SpecError
from warden.integrations.pagers import HttpPager

__all__ = ["app", "page_app", "spec_in_force"]

app = typer.Typer(help="Incidents opened by kill criteria.", no_args_is_help=True)
page_app = typer.Typer(help="The on-call channels.", no_args_is_help=True)

IncidentId = Annotated[str, typer.Argument(help="Incident id.")]
SpecFile = Annotated[
    Path | None, typer.Option("--spec", help="Spec file (default: the version in rollout).")
]


def spec_in_force(store: Store, agent: str, spec_file: Path | None) -> AgentSpec:
    """The spec from ``spec_file``, else the version being rolled out, else the one applied.

    Raises:
        ControlError: Neither is known.
        SpecError: The file is invalid.
    """
    if spec_file is not None:
        return load_spec(spec_file)
    state = store.get_rollout(agent)
    if state is not None:
        return spec_of(store, agent, state.spec_hash)
    change = store.current_spec_change(agent)
    if change is not None:
        return spec_of(store, agent, change.to_hash)
    raise ControlError(f"no spec of {agent} is in rollout or applied: pass --spec FILE")


def _line(i: Incident) -> str:
    ack = f", acknowledged by {i.acked_by}" if i.acked_by else ""
    esc = ", backup paged" if i.escalated_at else ""
    return f"{i.id} {i.opened_at:%Y-%m-%d %H:%M} {i.status.value}{ack}{esc}: {i.summary}"


@app.command("list")
def incidents_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    status: Annotated[IncidentStatus | None, typer.Option(help="Only this status.")] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Incidents, newest first."""
    with open_cli_store(database_url) as store:
        rows = store.list_incidents(agent, status=status)
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
    with open_cli_store(database_url) as store:
        incident = store.get_incident(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        pages = store.list_pages(incident_id=incident_id)
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
        out.print(
            f"  page to {p.recipient} via {p.channel} {p.target}: {state}",
            markup=False,
            highlight=False,
        )


def _update(
    incident_id: str, status: IncidentStatus, reason: str, database_url: str | None, as_json: bool
) -> None:
    with open_cli_store(database_url) as store:
        incident = store.update_incident(
            incident_id, actor=actor(), at=SystemClock().now(), status=status, reason=reason
        )
    if as_json:
        print_json(incident)
    else:
        out.print(_line(incident), markup=False, highlight=False)


@app.command("ack")
def incidents_ack(
    incident_id: IncidentId,
    reason: Annotated[str, typer.Option("--reason", help="Note (recorded).")] = "",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Acknowledge: you are on it (stops the escalation to the backup owner)."""
    _update(incident_id, IncidentStatus.ACKNOWLEDGED, reason, database_url, as_json)


@app.command("resolve")
def incidents_resolve(
    incident_id: IncidentId,
    reason: Annotated[str, typer.Option("--reason", help="What fixed it (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Resolve: the criterion may open a new incident if it trips again."""
    _update(incident_id, IncidentStatus.RESOLVED, reason, database_url, as_json)


@page_app.command("test")
def page_test(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    spec_file: SpecFile = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a test page to every on-call channel (exit 1 if any was not delivered)."""
    with open_cli_store(database_url) as store:
        try:
            spec = spec_in_force(store, agent, spec_file)
        except SpecError as exc:
            exit_on_spec_error(exc)
        deliveries = send_test_page(store, spec, HttpPager(), SystemClock())
    if as_json:
        print_json([d.model_dump(mode="json") for d in deliveries])
    else:
        if not deliveries:
            err.print(f"{agent} has no on-call channels (spec.oncall.channels)")
        for d in deliveries:
            state = "delivered" if d.delivered else f"NOT delivered ({d.error})"
            out.print(f"{d.channel} {d.target}: {state}", markup=False, highlight=False)
    if not deliveries or not all(d.delivered for d in deliveries):
        raise typer.Exit(1)
