"""Scale: how every dashboard page, API list, gate, kill-criteria check and SLO evaluation
grows as the store grows from 10k to 1M (and 10M) tool calls.

What it does (one invocation, one store):

1. **Fills the store through the real write path**: ``store.apply(events)`` with batches
   of events as the runtime's recorder sends them (``warden.runtime.recorder``). A run is
   ``RunRecorded`` (running), its ``ToolCallRecorded`` events (each with the policy's
   ``Decision``), one ``ModelCallRecorded``, a ``HandoffCreated`` when it escalates, and
   the terminal ``RunRecorded`` (ended_at, latency, tokens, cost). The store seals each
   finished run in the audit chain and adds it to the rollups in the same batch, as in
   production. About 3.1 tool calls per run, 9,000 runs a day, spread **back** over time
   from a fixed "now" (the newest runs are written first; growing the store adds older
   history, so 1M tool calls is about 36 days and 10M about a year). Three agents:

   - ``support-bot`` (75 % of runs), spec versions 1.0.0 and 2.0.0; 2.0.0 applied 50 days
     before "now" (shadow), **canary since 40 days** (80 % of its runs live, 20 % fallback:
     rerouted, no tool calls); kill criteria (6 h and 24 h windows) and two SLOs (7 days);
   - ``billing-bot`` (10 %, and every run older than 20 days that would be triage's), live;
   - ``triage-bot`` (15 % of the last 20 days), in shadow: its write calls are proposed.

   Live runs: 90 % resolved, ~4 % escalated with a handoff (left open: nothing closes a
   handoff through the write path), ~3 % failed (a tool failed after 3 attempts), ~2 %
   blocked (a denied write), the rest interrupted. Specs are applied with
   ``control.scope.apply_spec`` and stages changed with ``control.rollout.change_stage``
   on a ``FakeClock`` set to the past.

2. **Grows incrementally** to each size (10k, 100k, 1M tool calls; 10M with ``--max
   10000000``, meant for PostgreSQL) and prints the fill rate: tool calls per second of
   ``store.apply`` alone, and including building the events (one process, one writer).

3. **At each size, times every operation** ``--rounds`` times (default 5), interleaved
   (round 1 of every operation, then round 2, ...), after one untimed warm-up call each:
   the dashboard pages and the API's lists through a FastAPI ``TestClient`` over
   ``create_app(store, auth=False, clock=...)`` (in process: routing, the store's
   queries, validation, rendering; no network), the canary gate (``evaluate_gate``), the
   kill-criteria check (``check_kill_criteria``), the SLO evaluations (``evaluate_slo``
   over ``store.run_totals``), and as a baseline measured in the same invocation the old
   per-run path (``store.run_samples`` + ``measure``/``evaluate_slo``) over the gate's and
   the kill criteria's windows. An operation slower than ``--slow-s`` (default 3 s) on its
   warm-up is timed twice only. Every clock in the app and the checks is a ``FakeClock``
   one minute after the newest run.

The table prints p50 (and p99, nearest rank) in ms of each operation at each size, and the
growth ratio of the p50 between the two largest sizes. Targets (issue 13): pages and lists
<= 200 ms p50 (<= 500 ms p99), gate, kill check and SLO <= 50 ms, growth <= 1.5x.

Usage::

    python bench/store_scale.py                     # temporary SQLite file, 10k/100k/1M
    python bench/store_scale.py --quick             # 10k and 100k only (a few minutes)
    python bench/store_scale.py --postgres-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/store_scale.py --postgres-server URL --max 10000000 --json
    python bench/store_scale.py --database-url sqlite:////tmp/scale.db --sizes 10000,100000

``--postgres-server`` runs in a database of the benchmark's own, ``warden_bench_<pid>``,
created on that server and dropped at the end (``bench/_database.py``). A 1M store takes
about 1.5 GB on either database (check ``df -h``); 10M about 15 GB.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _database  # bench/ is on sys.path when a script runs
import sqlalchemy as sa
from _machine import machine
from _stats import percentile
from fastapi.testclient import TestClient

from warden.control.gates import evaluate_gate
from warden.control.killcriteria import check_kill_criteria
from warden.control.rollout import change_stage
from warden.control.scope import apply_spec
from warden.core.clock import FakeClock
from warden.core.decisions import Decision, Verdict
from warden.core.events import (
    Event,
    HandoffCreated,
    ModelCallRecorded,
    RunRecorded,
    ToolCallRecorded,
)
from warden.core.metrics import measure
from warden.core.rollout import RolloutAction, Stage
from warden.core.runs import (
    Handoff,
    ModelCallRecord,
    RunMode,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.core.slo import evaluate_slo
from warden.core.spec import AgentSpec
from warden.server import create_app
from warden.store import SqlStore
from warden.store import tables as t

RUNS_PER_DAY = 9_000
SECONDS_PER_RUN = 86_400 / RUNS_PER_DAY
SUPPORT, BILLING, TRIAGE = "support-bot", "billing-bot", "triage-bot"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
TARGET_FILL_PER_S = 5_000.0
TARGET_PAGE_P50_MS = 200.0
TARGET_PAGE_P99_MS = 500.0
TARGET_CHECK_MS = 50.0
TARGET_GROWTH = 1.5

# -- the agents --------------------------------------------------------------------------


def spec(name: str, version: str) -> AgentSpec:
    """The spec of a bench agent: three tools, SLOs, kill criteria and a rollout plan."""
    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": name,
                "version": version,
                "owner": "bench@example.com",
                "backup_owner": "bench-backup@example.com",
                "runbook": "https://runbooks.example.com/" + name,
            },
            "spec": {
                "scope": "Benchmark agent: answers support tickets.",
                "tools": {
                    "search_kb": {"access": "read", "untrusted_output": True},
                    "lookup_customer": {"access": "read", "max_attempts": 3},
                    "route_ticket": {
                        "access": "write",
                        "idempotent": True,
                        "arguments": {"queue": {"enum": ["cards", "refunds", "fraud"]}},
                    },
                },
                "escalation": {
                    "queue": "tier1-humans",
                    "on": ["low_confidence", "tool_failed"],
                    "confidence_threshold": 0.4,
                },
                "slos": [
                    {"name": "resolved", "metric": "success_rate", "objective": 0.8},
                    {"name": "fast", "metric": "latency_p95_s", "objective": 20.0},
                ],
                "kill_criteria": [
                    {
                        "metric": "tool_failure_rate",
                        "threshold": 0.2,
                        "window_s": 21_600,
                        "min_samples": 20,
                        "action": "pause",
                        "mode": "enforce",
                    },
                    {
                        "metric": "escalation_rate",
                        "threshold": 0.6,
                        "window_s": 86_400,
                        "min_samples": 40,
                        "action": "page",
                        "mode": "advisory",
                    },
                    {
                        "metric": "policy_denial_rate",
                        "threshold": 0.25,
                        "window_s": 86_400,
                        "min_samples": 40,
                        "action": "page",
                        "mode": "advisory",
                    },
                ],
                "rollout": {
                    "shadow": {"min_runs": 200, "min_agreement": 0.85, "min_days": 7},
                    "canary": {"traffic": 0.8, "min_runs": 200, "clean_days": 14},
                    "stability_window_days": 0,
                    "fallback": "legacy-router",
                },
            },
        }
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class World:
    """What the fill needs to know about the agents: "now", spec hashes, stage times."""

    now: datetime
    hashes: dict[tuple[str, str], str] = field(default_factory=dict)
    support_v2_at: datetime = _EPOCH
    support_canary_at: datetime = _EPOCH
    triage_since: datetime = _EPOCH


def set_up(store: SqlStore, now: datetime) -> World:
    """Apply the agents' specs and walk their rollouts, on a clock set to the past."""
    world = World(now=now)
    clock = FakeClock(now - timedelta(days=400))
    actor = "bench@example.com"

    def at(days_ago: float) -> None:
        target = now - timedelta(days=days_ago)
        clock.advance((target - clock.now()).total_seconds())

    def advance(agent: str, reason: str) -> None:
        change_stage(store, agent, RolloutAction.ADVANCE, actor=actor, reason=reason, clock=clock)

    for agent in (SUPPORT, BILLING):
        s = spec(agent, "1.0.0")
        world.hashes[agent, "1.0.0"] = s.content_hash()
        apply_spec(store, s, actor=actor, clock=clock)
    at(390)
    for agent in (SUPPORT, BILLING):
        advance(agent, "shadow gate passed")
    at(380)
    for agent in (SUPPORT, BILLING):
        advance(agent, "canary gate passed")
    at(50)
    s2 = spec(SUPPORT, "2.0.0")
    world.hashes[SUPPORT, "2.0.0"] = s2.content_hash()
    apply_spec(store, s2, actor=actor, clock=clock)
    world.support_v2_at = clock.now()
    state = store.get_rollout(SUPPORT)
    assert state is not None
    at(40)
    if state.stage is Stage.SHADOW:
        advance(SUPPORT, "shadow gate passed")
    else:  # the enrollment restarted another stage: bring it to canary
        change_stage(
            store, SUPPORT, RolloutAction.ROLLBACK, actor=actor, reason="restart", clock=clock
        )
        advance(SUPPORT, "restart in shadow")
        advance(SUPPORT, "shadow gate passed")
    world.support_canary_at = clock.now()
    at(20)
    s3 = spec(TRIAGE, "0.9.0")
    world.hashes[TRIAGE, "0.9.0"] = s3.content_hash()
    apply_spec(store, s3, actor=actor, clock=clock)
    world.triage_since = clock.now()
    return world


# -- the workload ------------------------------------------------------------------------

_ALLOW_READ = Decision(verdict=Verdict.ALLOW, rule="access", reason="A read tool runs.")
_ALLOW_WRITE = Decision(verdict=Verdict.ALLOW, rule="access", reason="route_ticket is a write.")
_DENY = Decision(
    verdict=Verdict.DENY,
    rule="argument_constraints",
    reason="queue 'billing' is not one of cards, refunds, fraud.",
)
_CALLS = (2, 3, 3, 3, 4, 4, 4, 4, 5, 5)  # per live run: mean 3.7 (3.1 over all runs)


class Workload:
    """Runs as the recorder sends them, newest first (run ``i`` started ``i`` x 9.6 s
    before "now"), deterministic per seed."""

    def __init__(self, world: World, seed: int = 13) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.next_run = 0
        self.tool_calls = 0
        self.runs = 0
        self.handoffs = 0

    def batch(self, runs: int) -> list[Event]:
        """The next ``runs`` runs' events, in one batch (as one recorder flush)."""
        events: list[Event] = []
        for _ in range(runs):
            events += self._run(self.next_run)
            self.next_run += 1
        return events

    def _run(self, i: int) -> list[Event]:
        rng, w = self.rng, self.world
        started = w.now - timedelta(seconds=i * SECONDS_PER_RUN + rng.random() * SECONDS_PER_RUN)
        pick = rng.random()
        if pick < 0.75:
            agent = SUPPORT
        elif pick < 0.90 and started >= w.triage_since:
            agent = TRIAGE
        else:
            agent = BILLING
        mode = RunMode.LIVE
        if agent == SUPPORT:
            version = "2.0.0" if started >= w.support_v2_at else "1.0.0"
            if w.support_v2_at <= started < w.support_canary_at:
                mode = RunMode.SHADOW
            elif started >= w.support_canary_at and rng.random() < 0.2:
                mode = RunMode.FALLBACK
        elif agent == TRIAGE:
            version, mode = "0.9.0", RunMode.SHADOW
        else:
            version = "1.0.0"
        run_id = f"run_{rng.getrandbits(96):024x}"
        cust = f"c-{rng.randrange(1, 200_000)}"
        run = RunRecord(
            id=run_id,
            agent=agent,
            spec_hash=w.hashes[agent, version],
            spec_version=version,
            mode=mode,
            routing_key=cust,
            input={"ticket": f"t-{i}", "text": "My new card has not arrived yet.", "cust": cust},
            started_at=started,
            heartbeat_at=started,
            host="bench-host",
            pid=4242,
        )
        events: list[Event] = [RunRecorded(run=run)]
        self.runs += 1
        if mode is RunMode.FALLBACK:
            end = started + timedelta(milliseconds=5)
            done = run.model_copy(
                update={
                    "status": RunStatus.ESCALATED,
                    "reason": "Rerouted to legacy-router: outside the canary slice.",
                    "error_code": "run.rerouted",
                    "ended_at": end,
                    "heartbeat_at": end,
                    "latency_s": 0.005,
                }
            )
            return [*events, RunRecorded(run=done)]
        fate = rng.random()
        status = RunStatus.RESOLVED
        if fate < 0.04:
            status = RunStatus.ESCALATED
        elif fate < 0.07:
            status = RunStatus.FAILED
        elif fate < 0.09:
            status = RunStatus.BLOCKED
        elif fate < 0.095:
            status = RunStatus.INTERRUPTED
        n = rng.choice(_CALLS)
        at = started
        in_tok, out_tok = rng.randint(600, 1600), rng.randint(40, 220)
        cost = (in_tok * 0.15 + out_tok * 0.6) / 1e6
        model_latency = rng.lognormvariate(-0.2, 0.5)
        events.append(
            ModelCallRecorded(
                call=ModelCallRecord(
                    run_id=run_id,
                    seq=1,
                    model="gpt-4o-mini",
                    provider="openai",
                    input_tokens=in_tok,
                    output_tokens=out_tok,
                    cost_usd=cost,
                    latency_s=model_latency,
                    at=at,
                )
            )
        )
        at += timedelta(seconds=model_latency)
        last_error: str | None = None
        for k in range(n):
            seq = k + 2
            last = k == n - 1
            if last and status is not RunStatus.FAILED:
                tool, args = "route_ticket", {"ticket_id": f"t-{i}", "queue": "cards"}
            elif k % 2 == 0:
                tool, args = "search_kb", {"q": f"card delivery {k}"}
            else:
                tool, args = "lookup_customer", {"customer_id": cust}
            latency = rng.lognormvariate(-2.5, 0.8)
            call_status, decision, attempts, error = ToolCallStatus.SUCCEEDED, _ALLOW_READ, 1, None
            result: Any = {"ok": True, "hits": 3}
            if tool == "route_ticket":
                decision = _ALLOW_WRITE
                if status is RunStatus.BLOCKED:
                    args = {"ticket_id": f"t-{i}", "queue": "billing"}
                    call_status, decision, attempts, result = ToolCallStatus.DENIED, _DENY, 0, None
                elif mode is RunMode.SHADOW:
                    call_status, attempts, result = ToolCallStatus.PROPOSED, 0, None
            elif last and status is RunStatus.FAILED:
                call_status, attempts, result = ToolCallStatus.FAILED, 3, None
                error = last_error = "CRM timed out after 3 attempts"
                latency *= 3
            events.append(
                ToolCallRecorded(
                    call=ToolCallRecord(
                        run_id=run_id,
                        seq=seq,
                        tool=tool,
                        arguments=args,
                        args_hash=f"{rng.getrandbits(256):064x}",
                        status=call_status,
                        decision=decision,
                        attempts=attempts,
                        idempotency_key=f"{run_id}:{seq}" if tool == "route_ticket" else None,
                        result=result,
                        error=error,
                        error_code="tool.failed" if error else None,
                        started_at=at,
                        ended_at=at + timedelta(seconds=latency),
                        latency_s=latency,
                    )
                )
            )
            at += timedelta(seconds=latency + 0.01)
        self.tool_calls += n
        end = at + timedelta(milliseconds=20)
        reason = {
            RunStatus.RESOLVED: "Routed to cards.",
            RunStatus.ESCALATED: "Handed to tier1-humans: the model's confidence 0.31 is low.",
            RunStatus.FAILED: f"Tool lookup_customer failed: {last_error}",
            RunStatus.BLOCKED: "route_ticket denied: queue 'billing' is not allowed.",
            RunStatus.INTERRUPTED: "The process was stopped (KeyboardInterrupt).",
        }[status]
        if status is RunStatus.ESCALATED:
            self.handoffs += 1
            events.append(
                HandoffCreated(
                    handoff=Handoff(
                        id=f"hof_{rng.getrandbits(64):016x}",
                        run_id=run_id,
                        agent=agent,
                        queue="tier1-humans",
                        trigger="low_confidence",
                        reason="The model's confidence 0.31 is below the threshold 0.40.",
                        input=run.input,
                        steps=[f"{s}. step" for s in range(1, n + 2)],
                        created_at=end,
                    )
                )
            )
        done = run.model_copy(
            update={
                "status": status,
                "reason": reason,
                "error_code": {
                    RunStatus.FAILED: "tool.failed",
                    RunStatus.BLOCKED: "policy.denied",
                    RunStatus.INTERRUPTED: "run.interrupted",
                }.get(status),
                "output": {"queue": "cards"} if status is RunStatus.RESOLVED else None,
                "ended_at": end,
                "heartbeat_at": end,
                "steps": n + 1,
                "tool_calls": n,
                "input_tokens": in_tok,
                "output_tokens": out_tok,
                "cost_usd": cost,
                "latency_s": (end - started).total_seconds(),
            }
        )
        events.append(RunRecorded(run=done))
        return events


@dataclass
class FillStats:
    """One growth step."""

    tool_calls: int = 0
    runs: int = 0
    batches: int = 0
    apply_s: float = 0.0
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the two rates."""
        return {
            "tool_calls": self.tool_calls,
            "runs": self.runs,
            "batches": self.batches,
            "apply_s": round(self.apply_s, 2),
            "wall_s": round(self.wall_s, 2),
            "apply_tool_calls_per_s": round(self.tool_calls / self.apply_s, 1)
            if self.apply_s
            else None,
            "wall_tool_calls_per_s": round(self.tool_calls / self.wall_s, 1)
            if self.wall_s
            else None,
        }


def fill(
    store: SqlStore, work: Workload, target: int, batch_runs: int, progress: bool
) -> FillStats:
    """Apply batches until the store holds ``target`` tool calls (or a little more)."""
    stats = FillStats()
    calls0, runs0 = work.tool_calls, work.runs
    clock = time.perf_counter
    start = clock()
    last_report = start
    while work.tool_calls < target:
        events = work.batch(batch_runs)
        t0 = clock()
        store.apply(events)
        stats.apply_s += clock() - t0
        stats.batches += 1
        if progress and clock() - last_report > 30:
            last_report = clock()
            done = work.tool_calls - calls0
            print(
                f"  ... {work.tool_calls:,} tool calls, {done / (last_report - start):,.0f}/s",
                file=sys.stderr,
                flush=True,
            )
    stats.wall_s = clock() - start
    stats.tool_calls = work.tool_calls - calls0
    stats.runs = work.runs - runs0
    return stats


# -- the operations ----------------------------------------------------------------------


@dataclass
class Op:
    """One timed operation."""

    name: str
    kind: str  # page | api | check | baseline
    call: Callable[[], object]


def operations(store: SqlStore, client: TestClient, world: World, clock: FakeClock) -> list[Op]:
    """Every page, list and check, bound to this store (a recent run of each kind)."""
    now = clock.now()
    with store.engine.connect() as conn:
        run_id = conn.execute(
            sa.select(t.runs.c.id)
            .where(t.runs.c.agent == SUPPORT, t.runs.c.status == "resolved")
            .order_by(t.runs.c.started_at.desc())
            .limit(1)
        ).scalar_one()
    v2 = spec(SUPPORT, "2.0.0")
    v2_hash = world.hashes[SUPPORT, "2.0.0"]
    state = store.get_rollout(SUPPORT)
    assert state is not None
    assert state.stage is Stage.CANARY, state

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            r = client.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:200]}")
            return r

        return call

    def gate() -> object:
        result = evaluate_gate(store, v2, state, clock)
        assert result is not None
        return result

    def kill_check() -> object:
        return check_kill_criteria(store, v2, v2_hash, clock, None)

    def slo() -> object:
        return [
            evaluate_slo(s, store.run_totals(SUPPORT, since=now - timedelta(days=s.window_days)), 1)
            for s in v2.spec.slos
        ]

    def baseline_gate() -> object:
        samples = store.run_samples(
            SUPPORT, since=state.stage_since, spec_hash=v2_hash, mode=RunMode.LIVE
        )
        return [evaluate_slo(s, samples, 200) for s in v2.spec.slos]

    def baseline_kill() -> object:
        out = []
        windows: dict[float, Any] = {}
        for c in v2.spec.kill_criteria:
            if c.window_s not in windows:
                since = now - timedelta(seconds=c.window_s)
                windows[c.window_s] = store.run_samples(SUPPORT, since=since, spec_hash=v2_hash)
            out.append(measure(c.metric, windows[c.window_s]))
        return out

    pages = [
        ("page /", "/"),
        (f"page /agents/{SUPPORT}", f"/agents/{SUPPORT}"),
        ("page /runs", "/runs"),
        (f"page /runs?agent={SUPPORT}", f"/runs?agent={SUPPORT}"),
        ("page /runs/{id}", f"/runs/{run_id}"),
        ("page /queue", "/queue"),
        ("page /audit", "/audit"),
    ]
    apis = [
        ("/api/agents", "/api/agents"),
        (f"/api/agents/{SUPPORT}", f"/api/agents/{SUPPORT}"),
        (f"/api/agents/{SUPPORT}/daily", f"/api/agents/{SUPPORT}/daily"),
        (f"/api/agents/{SUPPORT}/readiness", f"/api/agents/{SUPPORT}/readiness"),
        (f"/api/agents/{SUPPORT}/rollout", f"/api/agents/{SUPPORT}/rollout"),
        (f"/api/runs?agent={SUPPORT}", f"/api/runs?agent={SUPPORT}"),
        (
            f"/api/runs?agent={BILLING}&status=failed",
            f"/api/runs?agent={BILLING}&status=failed",
        ),
        ("/api/runs?denied_only=true", "/api/runs?denied_only=true"),
        ("/api/runs/{id}", f"/api/runs/{run_id}"),
        (f"/api/tool-calls?agent={SUPPORT}", f"/api/tool-calls?agent={SUPPORT}"),
        (
            f"/api/tool-calls?agent={BILLING}&status=denied",
            f"/api/tool-calls?agent={BILLING}&status=denied",
        ),
        ("/api/handoffs", "/api/handoffs"),
        ("/api/metrics/summary", "/api/metrics/summary"),
        ("/api/approvals", "/api/approvals"),
        ("/api/incidents", "/api/incidents"),
        ("/api/audit", "/api/audit"),
        ("/api/spec-changes", "/api/spec-changes"),
    ]
    return [
        *(Op(name, "page", get(path)) for name, path in pages),
        *(Op(name, "api", get(path)) for name, path in apis),
        Op("canary gate (evaluate_gate, 40 d)", "check", gate),
        Op("kill-criteria check (6 h, 24 h)", "check", kill_check),
        Op("SLO evaluation (2 SLOs, 7 d)", "check", slo),
        Op("baseline: run_samples + SLOs, gate window", "baseline", baseline_gate),
        Op("baseline: run_samples + measure, kill windows", "baseline", baseline_kill),
    ]


def time_ops(ops: list[Op], rounds: int, slow_s: float) -> dict[str, dict[str, Any]]:
    """Warm each op up once, then ``rounds`` interleaved rounds (2 for slow ops). An op
    that fails (e.g. a route changed under the benchmark) is reported, not timed."""
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {op.name: [] for op in ops}
    slow: set[str] = set()
    failed: dict[str, str] = {}
    for op in ops:
        t0 = clock()
        try:
            op.call()
        except Exception as exc:  # reported in the table
            failed[op.name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        if (clock() - t0) / 1e9 > slow_s:
            slow.add(op.name)
    for r in range(rounds):
        for op in ops:
            if op.name in failed or (op.name in slow and r >= 2):
                continue
            t0 = clock()
            op.call()
            samples[op.name].append(clock() - t0)
    out: dict[str, dict[str, Any]] = {}
    for op in ops:
        s = sorted(samples[op.name])
        out[op.name] = {
            "kind": op.kind,
            "n": len(s),
            "p50_ms": round(percentile(s, 50) / 1e6, 2),
            "p99_ms": round(percentile(s, 99) / 1e6, 2),
        } | ({"error": failed[op.name]} if op.name in failed else {})
    return out


# -- the store ---------------------------------------------------------------------------


def store_size(store: SqlStore) -> dict[str, Any]:
    """Row counts and the database's size on disk."""
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        for table in (t.runs, t.tool_calls, t.model_calls, t.handoffs, t.audit_log):
            counts[table.name] = int(
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
        if store.dialect == "postgresql":
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
        else:
            pages = conn.execute(sa.text("PRAGMA page_count")).scalar() or 0
            page_size = conn.execute(sa.text("PRAGMA page_size")).scalar() or 0
            size = int(pages) * int(page_size)
    return counts | {"bytes": int(size or 0)}


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Collect, then keep what is alive out of the collector's reach while timing."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _redact(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Fill and measure; the JSON document."""
    load_before = [round(x, 2) for x in os.getloadavg()]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = SqlStore(url)
    try:
        world = set_up(store, now)
        work = Workload(world)
        app_clock = FakeClock(now + timedelta(minutes=1))
        client = TestClient(create_app(store, auth=False, clock=app_clock))
        sizes: list[dict[str, Any]] = []
        for target in args.sizes:
            fstats = fill(store, work, target, args.batch_runs, progress=True)
            if store.dialect == "postgresql" and args.analyze:
                with store.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    conn.execute(sa.text("ANALYZE"))
            size = store_size(store)
            f = fstats.as_dict()
            print(
                f"filled to {work.tool_calls:,} tool calls ({work.runs:,} runs, "
                f"{size['bytes'] / 1e6:,.0f} MB): +{f['tool_calls']:,} in {f['wall_s']} s, "
                f"{f['apply_tool_calls_per_s']:,} tool calls/s in store.apply, "
                f"{f['wall_tool_calls_per_s']:,}/s with building the events",
                file=sys.stderr,
                flush=True,
            )
            ops = operations(store, client, world, app_clock)
            with quiet_gc():
                timings = time_ops(ops, args.rounds, args.slow_s)
            sizes.append(
                {
                    "target": target,
                    "tool_calls": work.tool_calls,
                    "runs": work.runs,
                    "handoffs": work.handoffs,
                    "days": round(work.next_run / RUNS_PER_DAY, 1),
                    "store": size,
                    "fill": fstats.as_dict(),
                    "ops": timings,
                    "loadavg": [round(x, 2) for x in os.getloadavg()],
                }
            )
            print_size(sizes[-1])
            if args.save:  # after every size: a long run that fails later keeps these
                Path(args.save).write_text(json.dumps({"sizes": sizes}, indent=2) + "\n")
        client.close()
        host = machine(store, ("fastapi", "starlette", "pydantic", "psycopg"))
        host["loadavg_before"] = load_before
    finally:
        store.close()
    return {
        "machine": host,
        "config": {
            "database_url": _redact(url),
            "sizes": args.sizes,
            "rounds": args.rounds,
            "batch_runs": args.batch_runs,
            "analyze": args.analyze,
            "runs_per_day": RUNS_PER_DAY,
        },
        "sizes": sizes,
    }


# -- the report --------------------------------------------------------------------------


def _label(n: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div:
            return f"{round(n / div):g}{unit}"
    return str(n)


def print_size(s: dict[str, Any]) -> None:
    """One size's timings as they come (p50, p99 ms), on stderr."""
    err = sys.stderr
    print(
        f"\n-- {s['tool_calls']:,} tool calls ({s['runs']:,} runs, {s['days']} days) --", file=err
    )
    for name, x in s["ops"].items():
        print(f"  {name:<52}{x['p50_ms']:>10.1f}{x['p99_ms']:>10.1f} ms  (n={x['n']})", file=err)
    err.flush()


def verdict(kind: str, p50: float, p99: float, growth: float | None) -> str:
    """Whether an operation meets issue 13's targets at this size."""
    if kind == "baseline":
        return "(baseline)"
    limit = TARGET_CHECK_MS if kind == "check" else TARGET_PAGE_P50_MS
    ok = p50 <= limit and (kind == "check" or p99 <= TARGET_PAGE_P99_MS)
    flat = growth is None or growth <= TARGET_GROWTH
    if ok and flat:
        return "ok"
    return ", ".join(x for x in ("slow" if not ok else "", "grows" if not flat else "") if x)


def print_report(out: dict[str, Any]) -> None:
    """The text report: the machine, the fill, then one table."""
    m, c, sizes = out["machine"], out["config"], out["sizes"]
    print(f"\nwarden store scale benchmark  {m['date']}")
    print(
        f"  machine : {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, SQLAlchemy {m['sqlalchemy']}"
    )
    print(f"  store   : {m['database']} {m['database_version']}  ({c['database_url']})")
    print(f"  load avg: {m['loadavg_before']} before, {m['loadavg_after']} after")
    print()
    print("fill (store.apply, one writer; rate = tool calls/s of apply alone / with building)")
    for s in sizes:
        f = s["fill"]
        print(
            f"  to {_label(s['tool_calls']):>6}: +{f['tool_calls']:>10,} tool calls in "
            f"{f['wall_s']:>8.1f} s  {f['apply_tool_calls_per_s']:>9,.0f} / "
            f"{f['wall_tool_calls_per_s']:>9,.0f} per s   store {s['store']['bytes'] / 1e6:,.0f} MB,"
            f" {s['store']['runs']:,} runs, {s['store']['handoffs']:,} handoffs, "
            f"{s['store']['audit_log']:,} audit entries"
        )
    print()
    labels = [_label(s["tool_calls"]) for s in sizes]
    head = f"{'p50 ms (p99)':<52}" + "".join(f"{lab:>18}" for lab in labels)
    print(head + f"{'growth':>9}  verdict")
    for name, first in sizes[0]["ops"].items():
        row = f"{name:<52}"
        for s in sizes:
            x = s["ops"][name]
            cell = "error" if "error" in x else f"{x['p50_ms']:>9.1f} ({x['p99_ms']:>6.1f})"
            row += f"{cell:>18}"
        growth = None
        if len(sizes) >= 2:
            a, b = sizes[-2]["ops"][name]["p50_ms"], sizes[-1]["ops"][name]["p50_ms"]
            growth = b / a if a > 0 else math.nan
            row += f"{growth:>8.2f}x"
        last = sizes[-1]["ops"][name]
        print(row + "  " + verdict(first["kind"], last["p50_ms"], last["p99_ms"], growth))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        description="How pages, lists, gates and checks grow from 10k to 1M/10M tool calls."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the store (default: a temporary SQLite file, deleted "
        "afterwards); it must be empty",
    )
    _database.add_argument(parser)
    parser.add_argument(
        "--sizes",
        default=None,
        help="tool-call counts to measure at, comma-separated (default 10000,100000,1000000)",
    )
    parser.add_argument(
        "--max", type=int, default=None, help="add 10M (or this many) tool calls as a last size"
    )
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per operation")
    parser.add_argument(
        "--slow-s", type=float, default=3.0, help="ops slower than this are timed twice only"
    )
    parser.add_argument(
        "--batch-runs", type=int, default=200, help="runs per store.apply batch (~7 events each)"
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE after each fill step (Warden itself does not)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document, not text")
    parser.add_argument("--save", default=None, metavar="FILE", help="also write the JSON here")
    args = parser.parse_args(argv)
    _database.check(parser, args)
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    elif args.quick:
        sizes = [10_000, 100_000]
    else:
        sizes = list(DEFAULT_SIZES)
    if args.max:
        sizes = [s for s in sizes if s < args.max] + [args.max]
    if sizes != sorted(sizes) or not sizes:
        parser.error("--sizes must be increasing")
    args.sizes = sizes
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("warden").setLevel(logging.ERROR)

    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-scale-"))
    try:
        with _database.store_url(args, f"sqlite:///{tmp / 'warden.db'}") as url:
            out = run(args, url)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.save:
        Path(args.save).write_text(json.dumps(out, indent=2) + "\n")
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print_report(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
