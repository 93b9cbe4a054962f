"""Prometheus metrics: ``GET /metrics`` in the text exposition format (``prometheus-client``).

Every number is read from the store at scrape time by a custom collector (``StoreCollector``)
in a registry built for the request: nothing is counted in the server's memory, so every
replica answers the same numbers and a restart loses nothing. Counters are totals since the
store began (the rollups, ``warden.store.rollups``), so ``rate()`` and ``increase()`` work
across replicas and restarts; they go down only when the rollups are rebuilt
(``warden db rebuild-rollups``), which Prometheus reads as a counter reset.

Agents are those with a stored spec version; a token bound to one agent sees that agent's
series only. Auth: role ``viewer`` or above, as ``Authorization: Bearer <token>`` (in
Prometheus' scrape config: ``authorization: {credentials_file: /etc/prometheus/warden-token}``,
see ``deploy/prometheus/``).

| metric | type | labels | source |
| --- | --- | --- | --- |
| ``warden_up`` | gauge | | 1 when the store answered this scrape, else 0 |
| ``warden_agent_info`` | gauge (1) | agent, spec_version, spec_hash | the spec version in force |
| ``warden_runs_total`` | counter | agent, mode, state | ended runs (rollups) |
| ``warden_tool_calls_total`` | counter | agent, mode, status | tool calls of finished runs |
| ``warden_run_duration_seconds`` | histogram | agent, mode | finished runs' durations |
| ``warden_model_cost_usd_total`` | counter | agent, mode | model cost of ended runs, USD |
| ``warden_daily_budget_limit_usd`` / ``_runs`` | gauge | agent | ``budgets.per_day`` |
| ``warden_daily_budget_remaining_usd`` / ``_runs`` | gauge | agent | limit - today (UTC) |
| ``warden_kill_switch_engaged`` | gauge (0/1) | agent | the kill switch |
| ``warden_rollout_stage`` | gauge (0/1) | agent, stage | 1 on the stage runs see |
| ``warden_open_incidents`` | gauge | agent | incidents with status ``open`` |
| ``warden_open_handoffs`` | gauge | agent | handoff packets with status ``open`` |

``state`` is ``resolved``, ``escalated``, ``errored`` (``failed`` or ``interrupted``, as
``error_rate`` counts them), ``blocked``, ``killed`` for runs of mode ``live`` or ``shadow``,
and ``ended`` for runs of mode ``fallback`` (handed to the fallback whatever their status). ``status`` of a tool
call is ``denied``, ``failed`` or ``other`` (succeeded, proposed, reused, invalid, ...);
only tool calls of finished runs are counted (``core.metrics``). The duration histogram's
buckets are every other bound of ``LATENCY_BOUNDS_S`` (12.5 ms to about 69 min, each
56 % above the last), exact cumulative counts; it has no ``_sum`` or ``_count`` (the rollups
keep no duration sum; the count is ``warden_runs_total``).

Cost of a scrape, per agent: three rollup reads (one per mode, each a bounded number of
bucket rows), one kill-switch read, one ``daily_usage`` (today's runs, on an index), one
incident and one handoff ``COUNT``; plus, once, the spec versions and rollouts. It does
not grow with the number of runs or tool calls (only with days of history, one bucket row
per day per spec version and mode). Not here: tool calls by policy rule (the rollups do
not keep rules; a ``GROUP BY`` over every tool call per scrape would not be bounded),
SLO burn rates (alert rules compute error rates from ``warden_runs_total``), and export
through the OpenTelemetry metrics SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from warden.core.clock import Clock
from warden.core.incidents import IncidentStatus
from warden.core.metrics import LATENCY_BOUNDS_S, RunTotals
from warden.core.rollout import Stage, effective_stage
from warden.core.runs import RunMode, SpecVersion
from warden.core.spec import AgentSpec
from warden.core.tokens import Principal, Role
from warden.errors import StoreUnavailable
from warden.server.deps import ServerContext, context, require
from warden.store import SqlStore

__all__ = ["BUCKET_BINS", "EPOCH", "StoreCollector", "router"]

router = APIRouter(tags=["metrics"])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Start of the counters' window: totals are of every run the store has kept."""

BUCKET_BINS: tuple[int, ...] = tuple(range(1, len(LATENCY_BOUNDS_S), 2))
"""Indexes into ``LATENCY_BOUNDS_S`` exposed as ``le`` buckets (every other bound, the last
included): 29 buckets instead of 58, and each count is still exact."""

_MODES = (RunMode.LIVE, RunMode.SHADOW, RunMode.FALLBACK)


@dataclass(frozen=True)
class _Agent:
    """What one agent's series need, read from the store."""

    name: str
    version: SpecVersion
    totals: dict[RunMode, RunTotals]
    killed: bool
    stage: Stage
    runs_today: int
    cost_today_usd: float
    open_incidents: int
    open_handoffs: int


def _buckets(totals: RunTotals) -> list[tuple[str, float]]:
    """Cumulative ``(le, count)`` pairs of a duration histogram, ``+Inf`` last."""
    out: list[tuple[str, float]] = []
    seen = 0
    bins = sorted(totals.latency.items())
    i = 0
    for k in BUCKET_BINS:
        while i < len(bins) and bins[i][0] <= k:
            seen += bins[i][1]
            i += 1
        out.append((repr(LATENCY_BOUNDS_S[k]), float(seen)))
    out.append(("+Inf", float(sum(totals.latency.values()))))
    return out


class StoreCollector(Collector):
    """Reads every metric from the store when collected (see the module doc).

    Args:
        store: The store.
        clock: Time source (today's budget use is of the current UTC day).
        only: Report this agent only (a token bound to it), or None for every agent.
    """

    def __init__(self, store: SqlStore, clock: Clock, only: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.only = only

    def _agents(self) -> list[_Agent]:
        store = self.store
        now = self.clock.now()
        midnight = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
        rollouts = {r.agent: r for r in store.list_rollouts()}
        newest: dict[str, list[SpecVersion]] = {}
        for v in store.list_spec_versions(self.only):  # newest first
            newest.setdefault(v.agent, []).append(v)
        out: list[_Agent] = []
        for name in sorted(newest):
            versions = newest[name]
            state = rollouts.get(name)
            version = next(
                (v for v in versions if state is not None and v.content_hash == state.spec_hash),
                versions[0],
            )
            kill = store.get_kill_switch(name)
            runs_today, cost_today = store.daily_usage(name, midnight)
            out.append(
                _Agent(
                    name=name,
                    version=version,
                    totals={m: store.run_totals(name, since=EPOCH, mode=m) for m in _MODES},
                    killed=kill.engaged,
                    stage=effective_stage(state, kill) or Stage.LIVE,
                    runs_today=runs_today,
                    cost_today_usd=cost_today,
                    open_incidents=store.count_incidents(status=IncidentStatus.OPEN, agents=[name]),
                    open_handoffs=store.count_handoffs(status="open", agents=[name]),
                )
            )
        return out

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        """The metric families, read from the store now (only ``warden_up 0`` when it fails)."""
        up = GaugeMetricFamily("warden_up", "1 when the store answered this scrape, else 0.")
        try:
            agents = self._agents()
        except StoreUnavailable:
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from _families(agents)


def _families(
    agents: Iterable[_Agent],
) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
    info = GaugeMetricFamily(
        "warden_agent_info",
        "The spec version in force (being rolled out, else the newest stored); always 1.",
        labels=["agent", "spec_version", "spec_hash"],
    )
    runs = CounterMetricFamily(
        "warden_runs",
        "Ended runs by mode and state (errored: failed or interrupted; ended: a fallback "
        "run, whatever its status).",
        labels=["agent", "mode", "state"],
    )
    calls = CounterMetricFamily(
        "warden_tool_calls",
        "Tool calls of finished runs by status (denied, failed, other).",
        labels=["agent", "mode", "status"],
    )
    duration = HistogramMetricFamily(
        "warden_run_duration_seconds",
        "Durations of finished runs, seconds (no _sum/_count: see warden_runs_total).",
        labels=["agent", "mode"],
    )
    cost = CounterMetricFamily(
        "warden_model_cost_usd",
        "Model cost of ended runs, USD (pricing table at the time of the call).",
        labels=["agent", "mode"],
    )
    limit_usd = GaugeMetricFamily(
        "warden_daily_budget_limit_usd",
        "budgets.per_day.max_cost_usd of the spec in force, USD (agents with one only).",
        labels=["agent"],
    )
    left_usd = GaugeMetricFamily(
        "warden_daily_budget_remaining_usd",
        "Daily cost limit minus the model cost of runs started today (UTC), USD; "
        "negative when overspent.",
        labels=["agent"],
    )
    limit_runs = GaugeMetricFamily(
        "warden_daily_budget_limit_runs",
        "budgets.per_day.max_runs of the spec in force (agents with one only).",
        labels=["agent"],
    )
    left_runs = GaugeMetricFamily(
        "warden_daily_budget_remaining_runs",
        "Daily run limit minus the runs started today (UTC).",
        labels=["agent"],
    )
    kill = GaugeMetricFamily(
        "warden_kill_switch_engaged", "1 while the agent's kill switch is on.", labels=["agent"]
    )
    stage = GaugeMetricFamily(
        "warden_rollout_stage",
        "1 on the rollout stage runs see (paused while killed; live without a rollout plan).",
        labels=["agent", "stage"],
    )
    incidents = GaugeMetricFamily(
        "warden_open_incidents", "Incidents with status open.", labels=["agent"]
    )
    handoffs = GaugeMetricFamily(
        "warden_open_handoffs", "Handoff packets with status open.", labels=["agent"]
    )
    for a in agents:
        info.add_metric([a.name, a.version.version, a.version.content_hash], 1.0)
        for mode, t in a.totals.items():
            m = mode.value
            if mode is RunMode.FALLBACK:
                runs.add_metric([a.name, m, "ended"], float(t.fallback))
            else:
                for state, n in (
                    ("resolved", t.resolved),
                    ("escalated", t.escalated),
                    ("errored", t.errored),
                    ("blocked", t.finished - t.resolved - t.escalated - t.errored),
                    ("killed", t.killed),
                ):
                    runs.add_metric([a.name, m, state], float(n))
                other = t.tool_calls - t.denied_calls - t.failed_calls
                for status, n in (
                    ("denied", t.denied_calls),
                    ("failed", t.failed_calls),
                    ("other", other),
                ):
                    calls.add_metric([a.name, m, status], float(n))
                duration.add_metric([a.name, m], _buckets(t), None)
            cost.add_metric([a.name, m], t.total_cost_usd)
        per_day = AgentSpec.model_validate(a.version.spec).spec.budgets.per_day
        if per_day.max_cost_usd is not None:
            limit_usd.add_metric([a.name], float(per_day.max_cost_usd))
            left_usd.add_metric([a.name], float(per_day.max_cost_usd) - a.cost_today_usd)
        if per_day.max_runs is not None:
            limit_runs.add_metric([a.name], float(per_day.max_runs))
            left_runs.add_metric([a.name], float(per_day.max_runs - a.runs_today))
        kill.add_metric([a.name], float(a.killed))
        for s in Stage:
            stage.add_metric([a.name, s.value], float(s is a.stage))
        incidents.add_metric([a.name], float(a.open_incidents))
        handoffs.add_metric([a.name], float(a.open_handoffs))
    yield from (info, runs, calls, duration, cost, limit_usd, left_usd, limit_runs, left_runs)
    yield from (kill, stage, incidents, handoffs)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(
    ctx: ServerContext = Depends(context), who: Principal = Depends(require(Role.VIEWER))
) -> Response:
    """Every agent's metrics in the Prometheus text format, read from the store now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(ctx.store, ctx.clock, only=who.agent))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
