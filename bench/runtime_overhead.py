"""Runtime overhead of a governed tool call, and governed runs per second.

What it measures (all in one process, one invocation, against a baseline taken in the
same invocation, never a remembered number):

1. **bare**: the no-op tool called as a plain Python function, ``noop(x=i)``.
2. **governed call**: ``run.call("noop", x=i)`` inside one long run: the whole interceptor
   chain (kill switch, budget, input validation, policy, write-ahead, idempotency, retry,
   execute + result validation) plus the record emitted to the batched recorder. The
   argument changes every call so the spec's loop detection (``max_repeated_calls``) never
   fires. The **added** microseconds are governed minus bare (p50 and p99 separately).
3. **governed runs**: runs of 3 calls (2 reads + 1 idempotent write, then ``resolve``),
   one after another. Throughput counts the time to flush every record to the store at
   the end (``gov.flush()`` inside the timer).

Each latency is ``time.perf_counter_ns()`` taken around one call (or one run), after a
warm-up. The recorder's background thread, the heartbeat thread and the kill-switch cache
(TTL 0.25 s, so one store read every 250 ms in the hot path) run as they do in
production; the garbage collector stays on.

Usage::

    python bench/runtime_overhead.py                       # temp SQLite file
    python bench/runtime_overhead.py --postgres-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/runtime_overhead.py --calls 50000 --runs 5000 --json

``--postgres-server`` runs in a database of the benchmark's own, ``warden_bench_<pid>``,
created on that server and dropped at the end (``bench/_database.py``). The database is
migrated automatically; the benchmark adds rows (runs of the agent ``bench-runtime``) and
deletes nothing (a ``--database-url`` database keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _database  # bench/ is on sys.path when a script runs
import sqlalchemy as sa
from _machine import machine  # bench/ is on sys.path when a script runs
from _stats import percentile

from warden.core.spec import AgentSpec
from warden.runtime.governor import Governor
from warden.store import SqlStore

TARGET_ADDED_P50_US = 50.0
"""Issue target: at most this many microseconds added per governed call (p50)."""
TARGET_RUNS_PER_S = 300.0
"""Issue target: at least this many governed 3-call runs per second (2-core machine)."""

AGENT = "bench-runtime"


# -- the agent ---------------------------------------------------------------------------


def make_spec() -> AgentSpec:
    """A spec with a no-op read tool and an idempotent write tool; no budgets."""
    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": AGENT,
                "version": "1.0.0",
                "owner": "bench@example.com",
                "backup_owner": "bench2@example.com",
                "runbook": "bench/README.md",
            },
            "spec": {
                "scope": "Benchmark agent: calls a no-op tool.",
                "tools": {
                    "noop": {"access": "read", "description": "Does nothing."},
                    "set_status": {
                        "access": "write",
                        "idempotent": True,
                        "description": "Pretends to set a ticket's status.",
                    },
                },
                # No per-run or per-day limits: a budget check that never trips costs
                # the same as one that could, and a 20 000-call run must not be cut short.
                "budgets": {"per_run": {}, "per_day": {}},
            },
        }
    )


def noop(x: int) -> int:
    """The no-op tool."""
    return x


def set_status(ticket_id: str, status: str, idempotency_key: str | None = None) -> dict[str, str]:
    """The write tool (does nothing, but receives its idempotency key)."""
    return {"ticket_id": ticket_id, "status": status}


# -- statistics --------------------------------------------------------------------------


def summarize_ns(samples_ns: list[int]) -> dict[str, float]:
    """p50, p90, p99, p99.9, mean and max of ``samples_ns``, in microseconds."""
    s = sorted(samples_ns)
    return {
        "n": len(s),
        "p50_us": percentile(s, 50) / 1e3,
        "p90_us": percentile(s, 90) / 1e3,
        "p99_us": percentile(s, 99) / 1e3,
        "p999_us": percentile(s, 99.9) / 1e3,
        "mean_us": statistics.fmean(s) / 1e3,
        "max_us": s[-1] / 1e3,
    }


# -- the measurements --------------------------------------------------------------------


def bench_bare(n: int, warmup: int) -> tuple[dict[str, float], float]:
    """Latency of ``noop(x=i)`` called directly; returns (summary, calls/s)."""
    clock = time.perf_counter_ns
    fn = noop
    for i in range(warmup):
        fn(x=i)
    samples = [0] * n
    start = clock()
    for i in range(n):
        t0 = clock()
        fn(x=i)
        samples[i] = clock() - t0
    total_s = (clock() - start) / 1e9
    return summarize_ns(samples), n / total_s


def bench_governed_calls(gov: Governor, n: int, warmup: int) -> tuple[dict[str, Any], float]:
    """Latency of ``run.call("noop", x=i)`` inside one long run; returns (summary, calls/s)."""
    clock = time.perf_counter_ns
    samples = [0] * n
    total_s = float("nan")
    with gov.run(input={"bench": "governed-calls"}) as run:
        call = run.call
        for i in range(warmup):
            call("noop", x=-1 - i)
        start = clock()
        for i in range(n):
            t0 = clock()
            call("noop", x=i)
            samples[i] = clock() - t0
        total_s = (clock() - start) / 1e9
        run.resolve(output={"calls": n + warmup})
    if run.status.value != "resolved":
        raise SystemExit(f"governed-call run ended {run.status.value}: {run.reason}")
    gov.flush()
    summary: dict[str, Any] = summarize_ns(samples)
    # Drift check: does a call get slower as the run grows (state, trail, records)?
    tenth = max(1, n // 10)
    summary["p50_first_10pct_us"] = percentile(sorted(samples[:tenth]), 50) / 1e3
    summary["p50_last_10pct_us"] = percentile(sorted(samples[-tenth:]), 50) / 1e3
    return summary, n / total_s


def three_call_run(gov: Governor, i: int) -> None:
    """One governed run: 2 reads, 1 idempotent write, resolve."""
    with gov.run(input={"ticket": f"t-{i}"}, routing_key=f"c-{i % 100}") as run:
        run.call("noop", x=1)
        run.call("noop", x=2)
        run.call("set_status", ticket_id=f"t-{i}", status="closed")
        run.resolve(output={"status": "closed"})
    if run.status.value != "resolved":
        raise SystemExit(f"3-call run ended {run.status.value}: {run.reason}")


def bench_runs(gov: Governor, n: int, warmup: int) -> tuple[dict[str, Any], float]:
    """Latency of one 3-call run, and runs/s including the final flush to the store."""
    clock = time.perf_counter_ns
    for i in range(warmup):
        three_call_run(gov, -1 - i)
    gov.flush()
    samples = [0] * n
    start = clock()
    for i in range(n):
        t0 = clock()
        three_call_run(gov, i)
        samples[i] = clock() - t0
    before_flush = clock()
    gov.flush()
    end = clock()
    summary: dict[str, Any] = summarize_ns(samples)
    summary["final_flush_ms"] = (end - before_flush) / 1e6
    summary["wall_s"] = (end - start) / 1e9
    return summary, n / ((end - start) / 1e9)


def count_rows(store: SqlStore) -> dict[str, int]:
    """Runs and tool calls of the bench agent in the store (sanity check: nothing lost)."""
    from warden.store import tables as t

    with store.engine.connect() as conn:
        runs = conn.execute(
            sa.select(sa.func.count()).select_from(t.runs).where(t.runs.c.agent == AGENT)
        ).scalar_one()
        calls = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.tool_calls.join(t.runs, t.tool_calls.c.run_id == t.runs.c.id))
            .where(t.runs.c.agent == AGENT)
        ).scalar_one()
    return {"runs": int(runs), "tool_calls": int(calls)}


# -- the machine -------------------------------------------------------------------------


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Overhead of a governed no-op tool call, and governed 3-call runs per second."
    )
    parser.add_argument(
        "--calls", type=int, default=20_000, help="measured governed calls (bare: at least 100 000)"
    )
    parser.add_argument("--runs", type=int, default=2_000, help="measured 3-call runs")
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the store (default: a temporary SQLite file, deleted afterwards)",
    )
    _database.add_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document, not text")
    args = parser.parse_args(argv)
    _database.check(parser, args)
    if args.calls < 10 or args.runs < 10:
        parser.error("--calls and --runs must be at least 10")

    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-"))
    database = contextlib.ExitStack()  # --postgres-server: the database to drop at the end
    url = database.enter_context(_database.store_url(args, f"sqlite:///{tmp / 'warden.db'}"))
    out: dict[str, Any] = {}
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        store = SqlStore(url)
        gov = Governor(make_spec(), store, spool_dir=tmp / "spool")
        gov.tool(noop)
        gov.tool(set_status)
        before = count_rows(store)
        try:
            calls_warmup = min(2_000, max(100, args.calls // 10))
            runs_warmup = min(200, max(20, args.runs // 10))
            bare, bare_rate = bench_bare(max(args.calls, 100_000), max(calls_warmup, 10_000))
            gov_calls, gov_rate = bench_governed_calls(gov, args.calls, calls_warmup)
            runs, runs_rate = bench_runs(gov, args.runs, runs_warmup)
            after = count_rows(store)
            host = machine(store)
            host["loadavg_before"] = load_before
        finally:
            gov.close()
            store.close()
        added = {
            "p50_us": gov_calls["p50_us"] - bare["p50_us"],
            "p99_us": gov_calls["p99_us"] - bare["p99_us"],
        }
        expected = {
            "runs": 1 + runs_warmup + args.runs,
            "tool_calls": calls_warmup + args.calls + 3 * (runs_warmup + args.runs),
        }
        stored = {k: after[k] - before[k] for k in after}
        out = {
            "machine": host,
            "config": {
                "database_url": _redact(url),
                "calls": args.calls,
                "runs": args.runs,
                "calls_warmup": calls_warmup,
                "runs_warmup": runs_warmup,
            },
            "bare_call": bare | {"calls_per_s": bare_rate},
            "governed_call": gov_calls | {"calls_per_s": gov_rate},
            "added_per_call": added,
            "three_call_runs": runs | {"runs_per_s": runs_rate},
            "stored": {"expected": expected, "found": stored, "complete": stored == expected},
            "targets": {
                "added_p50_us": {
                    "target": f"<= {TARGET_ADDED_P50_US:g}",
                    "value": round(added["p50_us"], 2),
                    "met": added["p50_us"] <= TARGET_ADDED_P50_US,
                },
                "runs_per_s": {
                    "target": f">= {TARGET_RUNS_PER_S:g}",
                    "value": round(runs_rate, 1),
                    "met": runs_rate >= TARGET_RUNS_PER_S,
                },
            },
        }
    finally:
        database.close()
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print_report(out)
    return 0


def _redact(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def print_report(out: dict[str, Any]) -> None:
    m, c = out["machine"], out["config"]
    p: Callable[..., None] = print
    p(f"warden runtime overhead  {m['date']}")
    p(
        f"  machine : {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, SQLAlchemy {m['sqlalchemy']}"
    )
    p(f"  store   : {m['database']} {m['database_version']}  ({c['database_url']})")
    p(
        f"  load avg: {m['loadavg_before']} before, {m['loadavg_after']} after"
        + (
            "  (WARNING: other work is using the CPUs; numbers are pessimistic)"
            if max(m["loadavg_before"][0], m["loadavg_after"][0]) > 0.5 * (m["nproc"] or 1)
            else ""
        )
    )
    p()
    p(f"{'per call (us)':<34}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'mean':>9}{'calls/s':>12}")
    rows = (("bare noop(x=i)", "bare_call"), ('governed run.call("noop", x=i)', "governed_call"))
    for label, key in rows:
        r = out[key]
        p(
            f"{label:<34}{r['p50_us']:>9.2f}{r['p90_us']:>9.2f}{r['p99_us']:>9.2f}"
            f"{r['p999_us']:>9.2f}{r['mean_us']:>9.2f}{r['calls_per_s']:>12,.0f}"
        )
    a = out["added_per_call"]
    p(f"{'added by governance':<34}{a['p50_us']:>9.2f}{'':>9}{a['p99_us']:>9.2f}")
    g = out["governed_call"]
    p(
        f"  (n={g['n']}; governed p50 over the first / last 10% of the run: "
        f"{g['p50_first_10pct_us']:.2f} / {g['p50_last_10pct_us']:.2f} us)"
    )
    p()
    r = out["three_call_runs"]
    p(f"{'3-call run (ms)':<34}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'mean':>9}{'runs/s':>12}")
    p(
        f"{'2 reads + 1 write + resolve':<34}{r['p50_us'] / 1e3:>9.3f}{r['p90_us'] / 1e3:>9.3f}"
        f"{r['p99_us'] / 1e3:>9.3f}{r['p999_us'] / 1e3:>9.3f}{r['mean_us'] / 1e3:>9.3f}"
        f"{r['runs_per_s']:>12,.0f}"
    )
    p(
        f"  (n={r['n']} runs in {r['wall_s']:.2f} s, "
        f"including the final flush of {r['final_flush_ms']:.1f} ms)"
    )
    s = out["stored"]
    p(
        f"  records in the store: {s['found']} (expected {s['expected']}): "
        + (
            "complete"
            if s["complete"]
            else "MISMATCH (records lost, or another process deleted rows)"
        )
    )
    p()
    for name, t in out["targets"].items():
        verdict = "MET" if t["met"] else "NOT MET"
        p(f"target {name:<14} {t['target']:>8}: {t['value']:>10}  {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
