"""``warden demo``: the ticket router on real BANKING77 traffic (``examples/ticket_router``).

The example lives outside the ``warden`` package (it is what a user's own agent looks like)
and is its own distribution, ``warden-ticket-router`` (``examples/pyproject.toml``; it needs
scikit-learn). ``make install`` installs it beside warden; it registers its demo module in
the entry-point group ``warden.demos``, and this command finds it there.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from warden.cli.shared import err
from warden.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from ticket_router.report import DemoReport

__all__ = ["DEMO", "DEMOS_GROUP", "app", "demo_cmd", "load_demo"]

DEMOS_GROUP = "warden.demos"
DEMO = "ticket-router"
INSTALL_HINT = "pip install -e examples (from a warden checkout), or make install"

app = typer.Typer()


def load_demo(name: str = DEMO) -> ModuleType:
    """The demo module registered as ``name`` in the entry-point group ``warden.demos``.

    It has ``DemoSettings`` and ``run_demo(settings, progress=None) -> DemoReport``
    (``ticket_router.demo``).

    Raises:
        ConfigError: No such demo is installed.
        ImportError: It is installed but cannot be imported.
    """
    from importlib.metadata import entry_points

    found = entry_points(group=DEMOS_GROUP, name=name)
    if not found:
        raise ConfigError(
            f"the {name} demo is not installed (no {name!r} in the entry-point group "
            f"{DEMOS_GROUP}); install it with: {INSTALL_HINT}"
        )
    module = next(iter(found)).load()
    if not isinstance(module, ModuleType):
        raise ConfigError(f"entry point {name!r} in {DEMOS_GROUP} is not a module: {module!r}")
    return module


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _table(report: DemoReport, seconds: float) -> Table:
    from rich.table import Table

    table = Table(title="warden demo: ticket-router on BANKING77 test traffic", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("runs", f"{report.runs:,}"),
        *((f"  {state}", f"{n:,}") for state, n in report.states.items()),
        ("runs by mode", ", ".join(f"{m} {n:,}" for m, n in report.modes.items())),
        (
            "shadow agreement (95% CI)",
            f"{_pct(report.shadow_agreement)} ({report.shadow_agreement_ci95[0]:.1%}-"
            f"{report.shadow_agreement_ci95[1]:.1%}, n={report.shadow_compared:,})",
        ),
        ("resolution rate (finished runs)", _pct(report.resolution_rate)),
        ("escalation rate (finished runs)", _pct(report.escalation_rate)),
        (
            "policy denials by rule",
            ", ".join(f"{rule} {n}" for rule, n in report.policy_denials.items()) or "0",
        ),
        ("refunds executed", str(report.refunds_executed)),
        (
            "red-team tickets stopped",
            f"{sum(r.stopped for r in report.redteam)}/{len(report.redteam)}",
        ),
        ("retries / tool failures", f"{report.retries:,} / {report.tool_failures:,}"),
        ("budget stops", str(report.budget_stops)),
        (
            "cost per completed workflow",
            "-"
            if report.cost_per_completed_usd is None
            else f"${report.cost_per_completed_usd:.4f}",
        ),
        (
            "run latency p50 / p95",
            f"{report.latency_ms_p50 or 0:.0f} ms / {report.latency_ms_p95 or 0:.0f} ms",
        ),
        ("routed to humans while killed", f"{report.killed_routed_to_humans:,}"),
        ("handed to humans (all)", f"{report.routed_to_humans:,}"),
        ("pages sent (local inbox)", str(report.pages)),
        ("wall-clock time", f"{seconds:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@app.command("demo")
def demo_cmd(
    data: Annotated[
        Path, typer.Option("--data", help="BANKING77 folder (train.csv, test.csv).")
    ] = Path("../shared/data/banking77"),
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same numbers.")] = 7,
    crm_failure_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of CRM calls that fail normally.")
    ] = 0.10,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Store URL (default: a fresh .warden/demo.db)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Six simulated weeks of the ticket router on real BANKING77 traffic.

    Shadow, canary and live, a kill-switch flip, a CRM outage that trips a kill criterion.

    The red team's tickets too. Every number in the report is measured.
    """
    try:
        demo = load_demo()
    except ConfigError as exc:
        err.print(exc.message)
        raise typer.Exit(2) from exc
    except ImportError as exc:
        err.print(f"the demo needs the ticket_router example and scikit-learn: {exc}")
        err.print(f"install with: {INSTALL_HINT}")
        raise typer.Exit(2) from exc
    settings = demo.DemoSettings(
        data_dir=data,
        database_url=database_url,
        seed=seed,
        crm_failure_rate=crm_failure_rate,
    )
    console = Console(stderr=True)
    t0 = time.perf_counter()
    try:
        if as_json:
            report: DemoReport = demo.run_demo(settings)
        else:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("starting", total=None)

                def progress(phase: str, done: int, total: int) -> None:
                    bar.update(task, description=phase, completed=done, total=total)

                report = demo.run_demo(settings, progress)
    except ConfigError as exc:
        err.print(exc.message)
        raise typer.Exit(2) from exc
    seconds = time.perf_counter() - t0
    if as_json:
        data_out: dict[str, Any] = report.as_json() | {"seconds": round(seconds, 2)}
        typer.echo(json.dumps(data_out, default=str))
        return
    out = Console()
    out.print(_table(report, seconds))
    out.print("\n[bold]Rollout[/bold]")
    for day, before, after, actor in report.stages:
        out.print(f"  day {day:5.1f}  {before} -> {after}  ({actor})")
    out.print("\n[bold]What happened[/bold]")
    for day, text in report.timeline:
        out.print(f"  day {day:5.1f}  {text}")
    out.print(
        f"\nEval before launch: {report.eval['cases']} cases, pass rate "
        f"{_pct(report.eval['pass_rate'])} (floor {report.eval['floor']:.0%}), "
        f"{'passed' if report.eval['passed'] else 'FAILED'}"
    )
    url = report.database_url
    out.print(
        f"\nThe runs are in {url}. Explain any of them:\n"
        f"  export WARDEN_DATABASE_URL={url}\n"
        "  warden runs list --agent ticket-router --status escalated\n"
        "  warden runs show RUN_ID\n"
        f"\nData: {report.attribution}."
    )
