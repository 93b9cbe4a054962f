"""The ``warden`` command line (Typer + Rich).

Every command that reads the store takes ``--database-url`` (default
``WARDEN_DATABASE_URL``, else ``sqlite:///.warden/warden.db``). ``--json`` prints the core
pydantic models, for scripts. Exit codes: 0 success, 1 operation failed (e.g. not found),
2 invalid input (e.g. an invalid spec).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from rich.table import Table

from warden.cli import audit, incidents, operations, readiness, rollout, specs
from warden.cli import serve as serve_cli
from warden.cli.demo import demo_cmd
from warden.cli.policy import policy_app
from warden.cli.shared import DbUrl, JsonFlag, err, exit_on_spec_error, out
from warden.cli.shared import actor as _actor
from warden.cli.shared import open_cli_store as _store
from warden.cli.shared import print_json as _print_json
from warden.control.killswitch import unkill as release_switch
from warden.core.clock import SystemClock
from warden.core.explain import explain_run
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    Handoff,
    RunFilter,
    RunMode,
    RunRecord,
    RunStatus,
)
from warden.core.spec_loader import load_spec
from warden.errors import SpecError
from warden.runtime.heartbeat import reap_interrupted

__all__ = ["app", "main"]

app = typer.Typer(help="Warden: the operations layer for AI agents.", no_args_is_help=True)
spec_app = typer.Typer(help="Validate, show, apply and approve agent specs.", no_args_is_help=True)
runs_app = typer.Typer(help="List and explain runs.", no_args_is_help=True)
approvals_app = typer.Typer(help="Decide calls waiting for a person.", no_args_is_help=True)
handoffs_app = typer.Typer(help="The human queue: runs handed to people.", no_args_is_help=True)
db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")
app.add_typer(runs_app, name="runs")
app.add_typer(approvals_app, name="approvals")
app.add_typer(handoffs_app, name="handoffs")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(rollout.app, name="rollout")
app.add_typer(rollout.outcomes_app, name="outcomes")
app.command("readiness")(readiness.readiness_cmd)
app.command("demo")(demo_cmd)
spec_app.command("apply")(specs.spec_apply)
spec_app.command("approve")(specs.spec_approve)
spec_app.command("changes")(specs.spec_changes)
app.add_typer(incidents.app, name="incidents")
app.add_typer(incidents.page_app, name="page")
app.add_typer(operations.drill_app, name="drill")
app.add_typer(serve_cli.token_app, name="token")
app.command("serve")(serve_cli.serve)
app.command("monitor")(operations.monitor)

# -- spec ---------------------------------------------------------------------------------


@spec_app.command("validate")
def spec_validate(
    files: Annotated[list[Path], typer.Argument(help="Agent spec YAML files.")],
    as_json: JsonFlag = False,
) -> None:
    """Validate agent specs: exit 0 when all are valid, 2 listing every problem when not."""
    problems: list[dict[str, Any]] = []
    for file in files:
        try:
            spec = load_spec(file)
        except SpecError as exc:
            problems += exc.to_dict()["problems"]
            if not as_json:
                for p in exc.problems:
                    out.print(str(p), markup=False, highlight=False)
            continue
        if not as_json:
            out.print(
                f"{file}: valid ({spec.name} {spec.metadata.version}, {len(spec.spec.tools)} tools)",
                markup=False,
            )
    if as_json:
        _print_json({"valid": not problems, "problems": problems})
    if problems:
        raise typer.Exit(2)


@spec_app.command("show")
def spec_show(
    file: Annotated[Path, typer.Argument(help="Agent spec YAML file.")],
    as_json: JsonFlag = False,
) -> None:
    """Print the normalised spec (defaults filled in) and its content hash."""
    try:
        spec = load_spec(file)
    except SpecError as exc:
        exit_on_spec_error(exc)
    if as_json:
        _print_json(spec)
        return
    m = spec.metadata
    out.print(f"[bold]{m.name}[/] {m.version}  owner {m.owner}, backup {m.backup_owner}")
    out.print(f"runbook: {m.runbook}\ncontent hash: {spec.content_hash()}\n")
    out.print(f"[bold]Scope[/] ({len(spec.spec.scope.split())} words): {spec.spec.scope}")
    for item in spec.spec.out_of_scope:
        out.print(f"  never: {item}")
    table = Table("tool", "access", "idempotent", "flags", "constraints", title="Tools")
    for name, tool in spec.spec.tools.items():
        flags = ", ".join(
            f
            for f, on in (("untrusted output", tool.untrusted_output), ("egress", tool.egress))
            if on
        )
        cons = ", ".join(tool.arguments) + (
            f"; approval when {tool.approval_when}" if tool.approval_when else ""
        )
        table.add_row(name, tool.access.value, "yes" if tool.idempotent else "no", flags, cons)
    out.print(table)


# -- kill switch --------------------------------------------------------------------------


def _set_switch(
    agent: str, engaged: bool, reason: str, database_url: str | None, as_json: bool
) -> None:
    with _store(database_url) as store:
        state = store.set_kill_switch(
            agent, engaged=engaged, reason=reason, actor=_actor(), at=SystemClock().now()
        )
    if as_json:
        _print_json(state)
    elif state.engaged:
        out.print(f"kill switch [bold red]ENGAGED[/] for {agent} by {state.actor}: {state.reason}")
    else:
        out.print(f"kill switch released for {agent} by {state.actor}: {state.reason}")


@app.command("kill")
def kill(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Engage the kill switch: new runs and in-flight runs stop before their next call.

    Idempotent: killing a killed agent changes nothing (the first reason stays).
    """
    _set_switch(agent, True, reason, database_url, as_json)


@app.command("unkill")
def unkill(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Turn the agent back on: the first person asks, a different person approves.

    Engaging needs nobody's approval; releasing is a scope expansion and needs two people.
    """
    with _store(database_url) as store:
        result = release_switch(store, agent, actor=_actor(), reason=reason, clock=SystemClock())
    if as_json:
        _print_json(result)
    else:
        out.print(result.message)


# -- runs ---------------------------------------------------------------------------------


@runs_app.command("list")
def runs_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Only this terminal state.")] = None,
    mode: Annotated[RunMode | None, typer.Option(help="live or shadow.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List runs, newest first."""
    with _store(database_url) as store:
        rows = store.list_runs(RunFilter(agent=agent, status=status, mode=mode, limit=limit))
    if as_json:
        _print_json(TypeAdapter(list[RunRecord]).dump_python(rows, mode="json"))
        return
    table = Table("run", "agent", "mode", "state", "started (UTC)", "steps", "cost $", "why")
    for r in rows:
        colour = {"resolved": "green", "escalated": "yellow", "running": "cyan"}.get(
            r.status.value, "red"
        )
        table.add_row(
            r.id,
            r.agent,
            r.mode.value,
            f"[{colour}]{r.status.value}[/]",
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            str(r.steps),
            f"{r.cost_usd:.4f}",
            (r.reason or "")[:60],
        )
    out.print(table)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Explain one run: its input, each step with the policy's decision, and how it ended."""
    with _store(database_url) as store:
        detail = store.get_run(run_id)
    if detail is None:
        err.print(f"[red]error[/]: no run {run_id!r}")
        raise typer.Exit(1)
    if as_json:
        _print_json(detail)
        return
    for line in explain_run(detail):
        out.print(line, markup=False, highlight=False)


@runs_app.command("reap")
def runs_reap(
    stale_after: Annotated[float, typer.Option(help="Seconds without a heartbeat.")] = 30.0,
    database_url: DbUrl = None,
) -> None:
    """Mark runs whose process died (stale heartbeat) as ``interrupted``."""
    with _store(database_url) as store:
        ids = reap_interrupted(store, SystemClock(), stale_after)
    out.print(f"{len(ids)} run(s) marked interrupted" + (": " + ", ".join(ids) if ids else ""))


# -- approvals ----------------------------------------------------------------------------


@approvals_app.command("list")
def approvals_list(
    status: Annotated[
        ApprovalStatus | None, typer.Option(help="Filter by status.")
    ] = ApprovalStatus.PENDING,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List approval requests (pending by default)."""
    with _store(database_url) as store:
        rows = store.list_approvals(status)
    if as_json:
        _print_json(TypeAdapter(list[ApprovalRequest]).dump_python(rows, mode="json"))
        return
    table = Table("id", "agent", "run", "tool", "arguments", "why", "status", "expires (UTC)")
    for a in rows:
        table.add_row(
            a.id,
            a.agent,
            a.run_id,
            a.tool,
            json.dumps(a.arguments)[:60],
            a.reason[:60],
            a.status.value,
            f"{a.expires_at:%Y-%m-%d %H:%M:%S}",
        )
    out.print(table)


def _decide(
    approval_id: str, status: ApprovalStatus, reason: str, database_url: str | None, as_json: bool
) -> None:
    with _store(database_url) as store:
        decided = store.decide_approval(
            approval_id, status=status, actor=_actor(), reason=reason, at=SystemClock().now()
        )
    if as_json:
        _print_json(decided)
    else:
        out.print(
            f"{decided.id} {decided.status.value} by {decided.decided_by}: {decided.tool} for run {decided.run_id}"
        )


@approvals_app.command("approve")
def approvals_approve(
    approval_id: Annotated[str, typer.Argument(help="Approval request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "approved",
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending request; the waiting run goes on (after re-checking the policy)."""
    _decide(approval_id, ApprovalStatus.APPROVED, reason, database_url, as_json)


@approvals_app.command("deny")
def approvals_deny(
    approval_id: Annotated[str, typer.Argument(help="Approval request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded, shown to the owner).")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Deny a pending request; the call is not executed."""
    _decide(approval_id, ApprovalStatus.DENIED, reason, database_url, as_json)


# -- handoffs -----------------------------------------------------------------------------


@handoffs_app.command("list")
def handoffs_list(
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List handoff packets, newest first."""
    with _store(database_url) as store:
        rows = store.list_handoffs(queue)
    if as_json:
        _print_json(TypeAdapter(list[Handoff]).dump_python(rows, mode="json"))
        return
    table = Table("id", "queue", "agent", "run", "trigger", "reason")
    for h in rows:
        table.add_row(h.id, h.queue, h.agent, h.run_id, h.trigger, h.reason[:80])
    out.print(table)


# -- db -----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(database_url: DbUrl = None) -> None:
    """Create or migrate the store's schema to the newest revision."""
    with _store(database_url) as store:
        out.print(
            f"store at {store.url.render_as_string(hide_password=True)} is at the newest schema"
        )


def main() -> None:
    """Console-script entry point."""
    app()
