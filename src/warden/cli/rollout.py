"""``warden rollout status|advance|rollback`` and ``warden outcomes record``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from warden.cli.shared import DbUrl, JsonFlag, actor, err, open_cli_store, out, print_json
from warden.control.gates import gate_check
from warden.control.outcomes import record_outcome
from warden.control.rollout import change_stage, rollout_status
from warden.core.clock import SystemClock
from warden.core.gates import GateResult, GateStatus
from warden.core.rollout import RolloutAction, RolloutState
from warden.core.status import RolloutStatus
from warden.errors import GateNotPassed

__all__ = ["app", "outcomes_app"]

app = typer.Typer(help="Rollout: shadow -> canary -> live, with gates.", no_args_is_help=True)
outcomes_app = typer.Typer(
    help="What people actually did, compared with shadow proposals.", no_args_is_help=True
)

Agent = Annotated[str, typer.Argument(help="Agent name.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]
_MARK = {GateStatus.PASS: "[green]pass[/]", GateStatus.FAIL: "[red]fail[/]"}


def _gate_lines(gate: GateResult) -> list[str]:
    head = f"gate to {gate.target.value if gate.target else '-'}: "
    lines = [head + _MARK.get(gate.status, "[yellow]inconclusive (holds)[/]")]
    for c in gate.checks:
        lines.append(f"  {_MARK.get(c.status, '[yellow]inconclusive[/]')} {c.name}: {c.detail}")
    return lines


def _show(status: RolloutStatus) -> None:
    out.print(f"[bold]{status.agent}[/] {status.stage.value}", highlight=False)
    if status.stage != status.stored_stage:
        ks = status.kill_switch
        out.print(
            f"  kill switch on since {ks.changed_at:%Y-%m-%d %H:%M} by {ks.actor}: {ks.reason}; "
            f"resumes {status.stored_stage.value} when released",
            highlight=False,
        )
    out.print(
        f"  spec {status.spec_version} ({status.spec_hash[:12]}), gate started "
        f"{status.stage_since:%Y-%m-%d %H:%M} UTC, rollout version {status.version}",
        highlight=False,
    )
    if status.traffic is not None:
        out.print(
            f"  traffic: {status.traffic:.0%} of routing keys; the rest go to {status.fallback}"
        )
    for rate in status.agreement:
        if rate.rate is not None:
            out.print(
                f"  agreement {rate.spec_version or rate.spec_hash[:12]}: {rate.rate:.1%} "
                f"(95% CI {rate.low:.1%}-{rate.high:.1%}, {rate.compared} runs)",
                highlight=False,
            )
    if status.gate is not None:
        for line in _gate_lines(status.gate):
            out.print(line, highlight=False)
    for tr in status.transitions:
        frm = tr.from_stage.value if tr.from_stage else "-"
        out.print(
            f"  {tr.at:%Y-%m-%d %H:%M} {tr.action.value} {frm} -> {tr.to_stage.value} "
            f"by {tr.actor}: {tr.reason}",
            markup=False,
            highlight=False,
        )


@app.command("status")
def status_cmd(agent: Agent, database_url: DbUrl = None, as_json: JsonFlag = False) -> None:
    """Stage, traffic, kill switch, agreement and the gate out of the current stage."""
    with open_cli_store(database_url) as store:
        status = rollout_status(store, agent, SystemClock())
    if as_json:
        print_json(status)
    else:
        _show(status)


def _move(
    agent: str,
    action: RolloutAction,
    reason: str,
    expected_version: int | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    clock = SystemClock()
    with open_cli_store(database_url) as store:
        try:
            state: RolloutState = change_stage(
                store,
                agent,
                action,
                actor=actor(),
                reason=reason,
                clock=clock,
                expected_version=expected_version,
                check=gate_check(store, clock),
            )
        except GateNotPassed as exc:
            if as_json:
                print_json(exc.to_dict() | {"status": exc.status})
            else:
                err.print(f"[yellow]not advanced[/]: {exc.message}", highlight=False)
            raise typer.Exit(1) from None
    if as_json:
        print_json(state)
    else:
        out.print(f"{agent} is now {state.stage.value} (by {state.updated_by}: {state.reason})")


@app.command("advance")
def advance(
    agent: Agent,
    reason: Reason,
    expected_version: Annotated[
        int | None, typer.Option(help="Refuse if the rollout is no longer at this version.")
    ] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Move to the next stage if the current stage's gate passes (exit 1 if it holds or fails)."""
    _move(agent, RolloutAction.ADVANCE, reason, expected_version, database_url, as_json)


@app.command("rollback")
def rollback(
    agent: Agent,
    reason: Reason,
    expected_version: Annotated[
        int | None, typer.Option(help="Refuse if the rollout is no longer at this version.")
    ] = None,
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Take the agent out of service: every run takes the fallback until it restarts in shadow."""
    _move(agent, RolloutAction.ROLLBACK, reason, expected_version, database_url, as_json)


@outcomes_app.command("record")
def outcomes_record(
    agent: Agent,
    key: Annotated[str, typer.Argument(help="Run id or routing key.")],
    action: Annotated[
        str,
        typer.Option(
            "--action",
            help='What the person did, as JSON: \'{"tool": "route_ticket", "arguments": '
            '{"queue": "card_arrival"}}\', a list of those, a tool name, or null.',
        ),
    ],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a person's actual action for a run and compare it with the agent's proposal."""
    try:
        parsed: Any = json.loads(action)
    except json.JSONDecodeError:
        parsed = action  # a bare tool name
    with open_cli_store(database_url) as store:
        outcome = record_outcome(store, agent, key, parsed, actor=actor(), clock=SystemClock())
    if as_json:
        print_json(outcome)
    else:
        verdict = "[green]agrees[/]" if outcome.agreed else "[red]disagrees[/]"
        out.print(f"run {outcome.run_id} ({outcome.spec_version}): the agent {verdict}")
