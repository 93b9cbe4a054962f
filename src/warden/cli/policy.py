"""``warden policy backtest``: what would this spec have done to recorded traffic?"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from warden.cli.shared import exit_on_spec_error
from warden.errors import ConfigError, SpecError, WardenError

if TYPE_CHECKING:
    from rich.table import Table

    from warden.backtest import Backtest, RecordedRun
    from warden.backtest.replay import ReplayedRun
    from warden.backtest.report import AttackMetrics
    from warden.core.spec import AgentSpec

__all__ = ["app", "parse_duration"]

app = typer.Typer(help="Test a policy against recorded traffic.", no_args_is_help=True)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"`` as a timedelta.

    Raises:
        ConfigError: Anything else.
    """
    m = _DURATION.match(text.strip())
    if m is None:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 7d, 12h, 30m)")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def _with_rules(spec: AgentSpec, overrides: list[str]) -> AgentSpec:
    from warden.core.decisions import RuleMode
    from warden.core.spec import AgentSpec

    if not overrides:
        return spec
    rules = dict(spec.spec.policy.rules)
    for item in overrides:
        name, _, mode = item.partition("=")
        try:
            rules[name.strip()] = RuleMode(mode.strip())
        except ValueError:
            raise ConfigError(f"--rule {item!r}: use NAME=enforce or NAME=advisory") from None
    data = spec.model_dump(mode="json", by_alias=True)
    data["spec"]["policy"]["rules"] = {k: v.value for k, v in rules.items()}
    return AgentSpec.model_validate(data)


def _pick(specs: dict[str, AgentSpec], run: RecordedRun) -> AgentSpec:
    if len(specs) == 1:
        return next(iter(specs.values()))
    suite = run.labels.suite
    if suite in specs:
        return specs[suite]
    raise ConfigError(
        f"run {run.id} is from suite {suite!r} but no --spec file is named {suite}.yaml "
        f"(given: {', '.join(sorted(specs))})"
    )


def _replayed(specs: dict[str, AgentSpec], runs: Iterator[RecordedRun]) -> Iterator[ReplayedRun]:
    from warden.backtest import replay

    for run in runs:
        yield replay(_pick(specs, run), run)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _metrics_table(title: str, rows: dict[str, AttackMetrics]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for col in (
        "group",
        "runs",
        "attacked",
        "recorded ASR",
        "offline ASR",
        "stopped",
        "interception",
        "benign ok",
        "false blocks",
        "approval load",
    ):
        table.add_column(col, justify="left" if col == "group" else "right")
    for name, m in rows.items():
        table.add_row(
            name,
            str(m.runs),
            str(m.attacked),
            _pct(m.recorded_attack_success_rate),
            _pct(m.offline_attack_success_rate),
            f"{m.stopped_successful}/{m.successful_attacks}",
            f"{_pct(m.attempt_interception_rate)} ({m.attempts_intercepted}/{m.attempts})",
            str(m.benign_successful),
            f"{_pct(m.false_block_rate)} ({m.false_blocks})",
            f"{_pct(m.approval_load_rate)} ({m.approval_load})",
        )
    return table


def _print_report(report: Backtest, by_pipeline: bool) -> None:
    from rich.table import Table

    out.print(
        f"[bold]Policy backtest[/] of {report.spec} on {report.runs} runs, {report.calls} calls: "
        + ", ".join(f"{k} {v}" for k, v in sorted(report.verdicts.items()))
    )
    rows = {"all": report.overall} | report.by_suite
    out.print(_metrics_table("By suite", rows))
    if by_pipeline:
        out.print(_metrics_table("By pipeline", report.by_pipeline))
    if report.by_attack_type:
        out.print(_metrics_table("Attacked runs by attack template", report.by_attack_type))
    o = report.overall
    out.print(
        "denied by rule: " + (", ".join(f"{k} {v}" for k, v in o.denials_by_rule.items()) or "none")
    )
    out.print(
        "approval by rule: "
        + (", ".join(f"{k} {v}" for k, v in o.approvals_by_rule.items()) or "none")
    )
    if o.successful_without_harmful_call:
        out.print(
            f"{o.successful_without_harmful_call} successful attack(s) had no harmful tool call in "
            "their recording (denial-of-service or text-only goals): counted as not stopped."
        )
    s = report.decision_speed
    out.print(
        f"decisions: {s.decisions} in {s.seconds:.3f} s of policy time = {s.per_second:,.0f}/s; "
        f"p50 {s.p50_us:.1f} us, p99 {s.p99_us:.1f} us per decision"
    )
    if report.changed:
        table = Table(
            "run", "step", "tool", "recorded", "now", "rule", "why", title="Decisions that change"
        )
        for c in report.changed[:50]:
            table.add_row(
                c["run_id"],
                str(c["seq"]),
                c["tool"],
                c["recorded"],
                c["now"],
                c["rule"],
                c["reason"][:70],
            )
        out.print(table)
        if len(report.changed) > 50:
            out.print(f"… and {len(report.changed) - 50} more (see --json)")


@app.command("backtest")
def backtest(
    spec: Annotated[
        list[Path],
        typer.Option(
            "--spec", help="Agent spec(s); for AgentDojo, one per suite named SUITE.yaml."
        ),
    ],
    runs: Annotated[
        Path | None, typer.Option("--runs", help="Recorded runs: a file or a directory.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="agentdojo | otlp-json | warden")
    ] = "agentdojo",
    agent: Annotated[
        str | None, typer.Option("--agent", help="Replay this agent's stored runs instead.")
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="With --agent: how far back (7d, 12h, 30m).")
    ] = "7d",
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", help="Override a rule's mode: NAME=advisory|enforce."),
    ] = None,
    by_pipeline: Annotated[
        bool, typer.Option("--by-pipeline/--no-by-pipeline", help="Show the per-pipeline table.")
    ] = True,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="WARDEN_DATABASE_URL")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Replay recorded runs, call by call, through the spec; count what it allows, sends for
    approval, or denies, and (for AgentDojo) the attacks it would have stopped."""
    from warden.backtest import load_runs, load_store_runs, summarise
    from warden.core.clock import SystemClock
    from warden.core.spec_loader import load_spec
    from warden.sdk.settings import Settings
    from warden.store import open_store

    try:
        specs = {p.stem: _with_rules(load_spec(p), rule or []) for p in spec}
        if fmt not in ("agentdojo", "otlp-json", "warden"):
            raise ConfigError(f"--format must be agentdojo, otlp-json or warden, not {fmt!r}")
        if agent is not None:
            start = SystemClock().now() - parse_duration(since)  # bad input before any I/O
            store = open_store(Settings.from_env(database_url).database_url)
            recorded = load_store_runs(store, agent, start)
        elif runs is not None:
            recorded = load_runs(runs, fmt)  # type: ignore[arg-type]
        else:
            raise ConfigError("give --runs PATH, or --agent NAME [--since 7d]")
        digest = hashlib.sha256(
            "".join(s.content_hash() for s in specs.values()).encode()
        ).hexdigest()
        report = summarise(
            _replayed(specs, recorded),
            spec_name=", ".join(str(p) for p in spec),
            spec_hash=digest,
        )
    except SpecError as exc:
        exit_on_spec_error(exc)
    except WardenError as exc:
        err.print(f"[red]error[/] ({exc.code}): {exc.message}")
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        _print_report(report, by_pipeline)
