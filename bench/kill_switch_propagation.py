"""Kill-switch propagation: from the flip to the last worker's refusal.

Four worker processes (``--workers``) each run a governed loop on the same store: runs of
one no-op ``read`` call each, back to back, through a ``Governor`` with the default
kill-switch cache (TTL 0.25 s; on PostgreSQL the process also LISTENs for pushes). The
main process flips the switch 20 times (``--flips``), exactly as ``warden kill`` does
(``SqlStore.set_kill_switch``, which commits the change and, on PostgreSQL, sends the
NOTIFY):

- ``t0`` is ``time.time()`` taken just before ``set_kill_switch`` is called (Python start-up
  of the ``warden`` command, ~0.5 s, is not counted: the switch takes effect at commit);
- each worker records ``time.time()`` when its first run after the flip is refused
  (``KillSwitchEngaged`` at run start or before a call);
- the propagation of a flip is the **last** worker's refusal minus ``t0``; the first
  worker's is reported too.

After each flip the switch is released and the main process waits until every worker has
completed a run again, then waits a random 0.2-0.5 s before the next flip, so flips land at
random points of the workers' cache periods. All processes are on one machine, so their
wall clocks are the same clock.

Usage::

    python bench/kill_switch_propagation.py                       # temp SQLite file
    python bench/kill_switch_propagation.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/kill_switch_propagation.py --flips 20 --workers 4 --json

Target (issue 4): p99 of the last worker's refusal < 1 s.
"""

from __future__ import annotations

import argparse
import json
import math
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
TARGET_P99_S = 1.0


def make_spec() -> Any:
    from warden.core.spec import AgentSpec

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
            "spec": {"scope": "Benchmark agent.", "tools": {"noop": {"access": "read"}}},
        }
    )


def worker(wid: int, url: str, spool: str, events: Any, stop: Any, work_s: float) -> None:
    """A governed loop; reports its first refusal after each flip and its resumption."""
    from warden.errors import KillSwitchEngaged
    from warden.runtime.governor import Governor
    from warden.store import SqlStore

    store = SqlStore(url, auto_migrate=False)
    gov = Governor(
        make_spec(), store, spool_dir=Path(spool) / f"w{wid}", kill_criteria_every_s=None
    )

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
            with gov.run(input=i, mode="live") as run:
                run.call("noop", x=i)
                run.resolve()
            if killed:
                killed = False
                events.put(("resumed", wid, time.time()))
        except KillSwitchEngaged:
            if not killed:
                killed = True
                events.put(("refused", wid, time.time()))
            time.sleep(0.01)
    gov.close()
    store.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


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


def run(url: str, workers: int, flips: int, work_s: float) -> dict[str, Any]:
    from warden.store import SqlStore

    store = SqlStore(url)  # migrates
    store.set_kill_switch(
        AGENT, engaged=False, reason="bench start", actor="bench", at=datetime.now(UTC)
    )
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    stop = ctx.Event()
    spool = tempfile.mkdtemp(prefix="warden-bench-spool-")
    procs = [
        ctx.Process(target=worker, args=(w, url, spool, events, stop, work_s))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    last: list[float] = []
    first: list[float] = []
    commit: list[float] = []
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
            store.set_kill_switch(
                AGENT, engaged=False, reason="bench release", actor="bench", at=datetime.now(UTC)
            )
            _collect(events, "resumed", workers, 10)
    finally:
        stop.set()
        for p in procs:
            p.join(10)
        store.close()
    return {
        "database": store.dialect,
        "workers": workers,
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
        "flip_commit_s": {"p50": statistics.median(commit), "p99": _pct(commit, 99)},
        "samples_last_worker_s": [round(v, 4) for v in last],
        "target_p99_s": TARGET_P99_S,
        "met": _pct(last, 99) < TARGET_P99_S,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="Store (default: a temp SQLite file).")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--flips", type=int, default=20)
    parser.add_argument(
        "--work-ms", type=float, default=10.0, help="Milliseconds each tool call sleeps (its I/O)."
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    tmp = None
    url = args.database_url
    if url is None:
        tmp = tempfile.mkdtemp(prefix="warden-bench-")
        url = f"sqlite:///{Path(tmp) / 'warden.db'}"
    result = run(url, args.workers, args.flips, args.work_ms / 1000)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    lw = result["last_worker_s"]
    fw = result["first_worker_s"]
    print(
        f"kill-switch propagation on {result['database']}: {args.workers} workers, "
        f"{args.flips} flips, {args.work_ms:g} ms of tool I/O per run"
    )
    print(
        f"  last worker refused:  p50 {lw['p50'] * 1000:.0f} ms  p99 {lw['p99'] * 1000:.0f} ms  "
        f"(mean {lw['mean'] * 1000:.0f}, min {lw['min'] * 1000:.0f}, max {lw['max'] * 1000:.0f})"
    )
    print(f"  first worker refused: p50 {fw['p50'] * 1000:.0f} ms  p99 {fw['p99'] * 1000:.0f} ms")
    fc = result["flip_commit_s"]
    print(
        f"  the flip itself (set_kill_switch until committed): p50 {fc['p50'] * 1000:.0f} ms  "
        f"p99 {fc['p99'] * 1000:.0f} ms"
    )
    print(f"  target p99 < {TARGET_P99_S:g} s: {'MET' if result['met'] else 'NOT MET'}")
    print(f"  load average {result['load_average'][0]:.2f} on {result['cpus']} CPUs")


if __name__ == "__main__":
    main()
