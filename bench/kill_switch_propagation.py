"""Kill-switch propagation: from the flip to the last worker's refusal.

Four worker processes (``--workers``) each run a governed loop on the same store: runs of
one no-op ``read`` call each, back to back, through a ``Governor`` with the default
kill-switch cache (TTL 0.25 s; on PostgreSQL the process also LISTENs for pushes). Each
tool call sleeps ``--work-ms`` (default 10 ms, the tool's I/O); ``--work-ms 0`` is the
tight loop. The main process flips the switch 20 times (``--flips``), exactly as
``warden kill`` does (``SqlStore.set_kill_switch``: on SQLite it writes the kill signal
file, then the row and the audit entry; on PostgreSQL it commits the row and sends the
NOTIFY):

- ``t0`` is ``time.time()`` taken just before ``set_kill_switch`` is called (Python start-up
  of the ``warden`` command, ~0.5 s, is not counted);
- each worker records ``time.time()`` when its first run after the flip is refused
  (``KillSwitchEngaged`` at run start or before a call);
- the propagation of a flip is the **last** worker's refusal minus ``t0``; the first
  worker's is reported too.

After each flip the switch is released and the main process waits until every worker has
completed a run again, then waits a random 0.2-0.5 s before the next flip, so flips land at
random points of the workers' cache periods. All processes are on one machine, so their
wall clocks are the same clock.

``--bystanders N`` starts N more processes that run the same loop for *another* agent.
The kill does not stop them, so they keep the database busy while the kill's record and
the release are written. Without them, the killed workers stop writing and the lock frees
itself. The report gives how long ``set_kill_switch`` took to return, for the kill (the
record written) and for the release.

Usage::

    python bench/kill_switch_propagation.py                       # temp SQLite file
    python bench/kill_switch_propagation.py --work-ms 0           # tight loop
    python bench/kill_switch_propagation.py --work-ms 0 --bystanders 2
    python bench/kill_switch_propagation.py --postgres-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/kill_switch_propagation.py --flips 20 --workers 4 --json

``--postgres-server`` runs in a database of the benchmark's own, ``warden_bench_<pid>``,
created on that server and dropped at the end (``bench/_database.py``).

Target (issue 4): p99 of the last worker's refusal < 1 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AGENT = "bench-killswitch"
BYSTANDER = "bench-bystander"
TARGET_P99_S = 1.0


def make_spec(name: str = AGENT) -> Any:
    from warden.core.spec import AgentSpec

    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": name,
                "version": "1.0.0",
                "owner": "bench@example.com",
                "backup_owner": "bench2@example.com",
                "runbook": "bench/README.md",
            },
            "spec": {"scope": "Benchmark agent.", "tools": {"noop": {"access": "read"}}},
        }
    )


def worker(
    wid: int,
    url: str,
    spool: str,
    events: Any,
    stop: Any,
    work_s: float,
    agent: str = AGENT,
    stats: Any = None,
) -> None:
    """A governed loop; reports its first refusal after each flip and its resumption
    (a bystander, on another agent, reports nothing), and at the end its full garbage
    collections (a process in one is frozen: it neither calls nor checks the switch)."""
    import gc

    from warden.errors import KillSwitchEngaged
    from warden.runtime.governor import Governor
    from warden.store import SqlStore

    store = SqlStore(url, auto_migrate=False)
    gov = Governor(make_spec(agent), store, spool_dir=Path(spool) / f"w{wid}")
    report = agent == AGENT
    full_gc: list[float] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                full_gc.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)

    @gov.tool
    def noop(x: int) -> int:
        if work_s:
            time.sleep(work_s)  # the tool's own I/O
        return x

    killed = True  # "resumed" is reported on the first successful run: the ready signal
    i = 0
    while not stop.is_set():
        i += 1
        try:
            with gov.run(input=i, mode="live", dangerously_override_rollout=True) as run:
                run.call("noop", x=i)
                run.resolve()
            if killed:
                killed = False
                if report:
                    events.put(("resumed", wid, time.time()))
        except KillSwitchEngaged:
            if not killed:
                killed = True
                if report:
                    events.put(("refused", wid, time.time()))
            time.sleep(0.01)
    gc.callbacks.remove(on_gc)
    if stats is not None:
        stats.put((wid, max(full_gc, default=0.0), len(full_gc)))
    gov.close()
    store.close()


def _pct(values: list[float], q: float) -> float:
    from _stats import percentile  # bench/ is on sys.path when a script runs

    return percentile(sorted(values), q)


def _collect(events: Any, kind: str, n: int, timeout_s: float) -> dict[int, float]:
    got: dict[int, float] = {}
    deadline = time.time() + timeout_s
    while len(got) < n:
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError(f"only {len(got)} of {n} workers reported {kind!r}")
        what, wid, at = events.get(timeout=left)
        if what == kind:
            got.setdefault(wid, at)
    return got


def run(url: str, workers: int, flips: int, work_s: float, bystanders: int = 0) -> dict[str, Any]:
    from _machine import machine  # bench/ is on sys.path when a script runs

    from warden.store import SqlStore

    store = SqlStore(url)  # migrates
    load_before = os.getloadavg()
    store.set_kill_switch(
        AGENT, engaged=False, reason="bench start", actor="bench", at=datetime.now(UTC)
    )
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    stats = ctx.Queue()
    stop = ctx.Event()
    spool = tempfile.mkdtemp(prefix="warden-bench-spool-")
    procs = [
        ctx.Process(target=worker, args=(w, url, spool, events, stop, work_s, AGENT, stats))
        for w in range(workers)
    ] + [
        ctx.Process(
            target=worker, args=(workers + b, url, spool, events, stop, work_s, BYSTANDER, stats)
        )
        for b in range(bystanders)
    ]
    for p in procs:
        p.start()
    last: list[float] = []
    first: list[float] = []
    commit: list[float] = []
    release: list[float] = []
    try:
        _collect(events, "resumed", workers, 60)
        for _ in range(flips):
            time.sleep(random.uniform(0.2, 0.5))
            t0 = time.time()
            store.set_kill_switch(
                AGENT, engaged=True, reason="bench flip", actor="bench", at=datetime.now(UTC)
            )
            commit.append(time.time() - t0)
            refused = _collect(events, "refused", workers, 10)
            last.append(max(refused.values()) - t0)
            first.append(min(refused.values()) - t0)
            t1 = time.time()
            store.set_kill_switch(
                AGENT, engaged=False, reason="bench release", actor="bench", at=datetime.now(UTC)
            )
            release.append(time.time() - t1)
            _collect(events, "resumed", workers, 10)
    finally:
        stop.set()
        gcs = [stats.get(timeout=30) for _ in procs]
        for p in procs:
            p.join(10)
    info = machine(store)
    store.close()
    return {
        "database": store.dialect,
        "workers": workers,
        "bystanders": bystanders,
        "flips": flips,
        "work_ms": work_s * 1000,
        "last_worker_s": {
            "p50": statistics.median(last),
            "p99": _pct(last, 99),
            "mean": statistics.fmean(last),
            "min": min(last),
            "max": max(last),
        },
        "first_worker_s": {"p50": statistics.median(first), "p99": _pct(first, 99)},
        "flip_commit_s": {
            "p50": statistics.median(commit),
            "p99": _pct(commit, 99),
            "max": max(commit),
        },
        "workers_full_gc": {
            "longest_s": max(g[1] for g in gcs),
            "count": sum(g[2] for g in gcs),
        },
        "release_commit_s": {
            "p50": statistics.median(release),
            "p99": _pct(release, 99),
            "max": max(release),
        },
        "samples_last_worker_s": [round(v, 4) for v in last],
        "target_p99_s": TARGET_P99_S,
        "met": _pct(last, 99) < TARGET_P99_S,
        "load_average_before": load_before,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "machine": info,
    }


def main() -> None:
    import _database  # bench/ is on sys.path when a script runs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="Store (default: a temp SQLite file).")
    _database.add_argument(parser)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--flips", type=int, default=20)
    parser.add_argument(
        "--work-ms", type=float, default=10.0, help="Milliseconds each tool call sleeps (its I/O)."
    )
    parser.add_argument(
        "--bystanders",
        type=int,
        default=0,
        help="Processes running the same loop for another agent (not killed).",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    _database.check(parser, args)
    tmp = None
    default = ""
    if args.database_url is None and args.postgres_server is None:
        tmp = tempfile.mkdtemp(prefix="warden-bench-")
        default = f"sqlite:///{Path(tmp) / 'warden.db'}"
    with _database.store_url(args, default) as url:
        result = run(url, args.workers, args.flips, args.work_ms / 1000, args.bystanders)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    lw = result["last_worker_s"]
    fw = result["first_worker_s"]
    print(
        f"kill-switch propagation on {result['database']}: {args.workers} workers, "
        f"{args.bystanders} bystanders, {args.flips} flips, {args.work_ms:g} ms of tool I/O per run"
    )
    print(
        f"  last worker refused:  p50 {lw['p50'] * 1000:.0f} ms  p99 {lw['p99'] * 1000:.0f} ms  "
        f"(mean {lw['mean'] * 1000:.0f}, min {lw['min'] * 1000:.0f}, max {lw['max'] * 1000:.0f})"
    )
    print(f"  first worker refused: p50 {fw['p50'] * 1000:.0f} ms  p99 {fw['p99'] * 1000:.0f} ms")
    fc, rc = result["flip_commit_s"], result["release_commit_s"]
    print(
        f"  the kill's record (set_kill_switch returned): p50 {fc['p50'] * 1000:.0f} ms  "
        f"p99 {fc['p99'] * 1000:.0f} ms  (max {fc['max'] * 1000:.0f})"
    )
    print(
        f"  the release (set_kill_switch returned): p50 {rc['p50'] * 1000:.0f} ms  "
        f"p99 {rc['p99'] * 1000:.0f} ms  (max {rc['max'] * 1000:.0f})"
    )
    print(f"  target p99 < {TARGET_P99_S:g} s: {'MET' if result['met'] else 'NOT MET'}")
    g = result["workers_full_gc"]
    print(
        f"  workers' full garbage collections: {g['count']}, longest "
        f"{g['longest_s'] * 1000:.0f} ms (a process in one cannot check the switch)"
    )
    m = result["machine"]
    print(
        f"  load average {result['load_average_before'][0]:.2f} before, "
        f"{result['load_average'][0]:.2f} after, on {result['cpus']} CPUs; "
        f"{m.get('database', '')} {m.get('database_version', '')}"
    )


if __name__ == "__main__":
    main()
