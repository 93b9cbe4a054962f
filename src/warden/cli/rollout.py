"""``warden rollout status|advance|rollback``: shadow -> canary -> live, with gates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, actor, err, open_cli_store, out, print_json

if TYPE_CHECKING:
    from warden.core.gates import GateResult
    from warden.core.rollout import RolloutAction
    from warden.core.status import RolloutStatus

__all__ = ["app"]

app = typer.Typer(help="Rollout: shadow -> canary -> live, with gates.", no_args_is_help=True)

Agent = Annotated[str, typer.Argument(help="Agent name.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]


def _gate_lines(gate: GateResult) -> list[str]:
    from warden.core.gates import GateStatus

    mark = {GateStatus.PASS: "[green]pass[/]", GateStatus.FAIL: "[red]fail[/]"}
    head = f"gate to {gate.target.value if gate.target else '-'}: "
    lines = [head + mark.get(gate.status, "[yellow]inconclusive (holds)[/]")]
    for c in gate.checks:
        lines.append(f"  {mark.get(c.status, '[yellow]inconclusive[/]')} {c.name}: {c.detail}")
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
    from warden.control.rollout import rollout_status
    from warden.core.clock import SystemClock

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
    from warden.control.gates import gate_check
    from warden.control.rollout import change_stage
    from warden.core.clock import SystemClock
    from warden.errors import GateNotPassed

    clock = SystemClock()
    with open_cli_store(database_url, operator=True) as store:
        try:
            state = change_stage(
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
    from warden.core.rollout import RolloutAction

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
    from warden.core.rollout import RolloutAction

    _move(agent, RolloutAction.ROLLBACK, reason, expected_version, database_url, as_json)
