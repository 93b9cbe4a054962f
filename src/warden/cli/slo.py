"""``warden slo status AGENT``: SLOs with error budgets and burn rates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from warden.cli.shared import DbUrl, JsonFlag, open_cli_store, out, print_json

if TYPE_CHECKING:
    from warden.core.burn import SloBurn

__all__ = ["app"]

app = typer.Typer(help="SLOs: error budgets and burn-rate alerts.", no_args_is_help=True)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _rate(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}x"


def _lines(b: SloBurn) -> list[str]:
    s = b.slo
    side = ">=" if s.metric == "success_rate" else "<="
    value = (
        "n/a"
        if b.value is None
        else f"{b.value:.3g} s"
        if s.metric == "latency_p95_s"
        else _pct(b.value)
    )
    lines = [
        f"{s.name}: {s.metric} {side} {s.objective:g} over {s.window_days} days: {value} "
        f"({b.events} runs), budget remaining {_pct(b.budget_remaining)}, "
        f"burn {_rate(b.burn_rate)}"
    ]
    if b.note:
        lines.append(f"  {b.note}")
    for a in b.alerts:
        mark = "FIRING" if a.firing else "ok"
        lines.append(f"  {mark} {a.detail}")
    return lines


@app.command("status")
def slo_status_command(
    agent: Annotated[str, typer.Argument(help="Agent name.")],
    database_url: DbUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Each SLO of the spec in force: objective, value, budget remaining, burn rates and
    which burn-rate alerts fire (live runs of every version)."""
    from warden.control.fleet import latest_spec
    from warden.control.slo import slo_status
    from warden.core.clock import SystemClock
    from warden.errors import NotFoundError

    with open_cli_store(database_url) as store:
        found = latest_spec(store, agent)
        if found is None:
            raise NotFoundError(f"no spec of {agent!r} is stored")
        spec, _ = found
        rows = slo_status(store, spec, SystemClock())
    if as_json:
        print_json(
            {
                "agent": agent,
                "slos": [
                    {
                        **r.model_dump(mode="json"),
                        "firing": [a.model_dump(mode="json") for a in r.firing],
                    }
                    for r in rows
                ],
            }
        )
        return
    if not rows:
        out.print(f"{agent}: no SLOs in its spec", markup=False, highlight=False)
        return
    for r in rows:
        for line in _lines(r):
            out.print(line, markup=False, highlight=False)
