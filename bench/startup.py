"""Start-up: how long ``import warden``, ``warden --help`` and ``warden kill`` take.

What it measures, each as a fresh process, wall time from ``subprocess.run`` to its exit:

1. **baseline**: ``python -c pass``, the interpreter alone, measured in the same invocation
   (never a remembered number);
2. ``python -c "import warden"``;
3. ``warden --help``;
4. ``warden kill A<i> --reason R`` against a temporary SQLite store created (and migrated)
   beforehand, so the command acts on an existing store: each repetition engages the
   switch of a new agent, so each one writes the switch and an audit entry.

The four commands run interleaved, one of each per round (the order rotates every round),
after one warm-up round that is not counted, so a busy moment of the machine slows all of
them alike. p50 and p99 are nearest-rank (with the default 15 rounds p99 is the slowest).
It also prints the ``python -X importtime`` cumulative time of ``import warden`` and of
the CLI's import (``warden.cli.main``: what the ``warden`` script imports before it parses
its arguments), the median over a few runs. Every child runs in a temporary directory with
``WARDEN_HOME`` and ``WARDEN_DATABASE_URL`` pointing into it; nothing is written elsewhere.

Usage::

    python bench/startup.py                  # 15 rounds, text report
    python bench/startup.py --repeat 31 --json
    python bench/startup.py --check          # exit 1 if a target is missed (p50)
    python bench/startup.py --cli "python -m warden.cli" --cli-module warden.cli.app
                                             # another checkout (PYTHONPATH=OTHER/src)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _stats import percentile  # bench/ is on sys.path when a script runs

TARGETS_MS = {"import warden": 300.0, "warden --help": 400.0, "warden kill": 600.0}
"""Issue targets for the p50 wall time on the 2-core machine, in milliseconds."""


def _default_cli() -> list[str]:
    script = Path(sys.executable).with_name("warden")
    if script.exists():
        return [str(script)]
    found = shutil.which("warden")
    return [found] if found else [sys.executable, "-m", "warden.cli"]


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one process; exits the benchmark if the process fails."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds


def importtime_ms(python: str, module: str, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """``python -X importtime -c "import MODULE"``: the cumulative milliseconds of the
    top-level imports of ``warden`` and its modules, and how many modules were imported."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total_us = 0
    modules = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        modules += 1
        if name.startswith(" warden") and not name.startswith("  "):  # top level only
            total_us += int(cumulative)
    return total_us / 1e3, modules


def _summary(seconds: list[float], baseline_p50: float | None) -> dict[str, float]:
    ms = sorted(s * 1e3 for s in seconds)
    out = {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "min_ms": ms[0],
    }
    if baseline_p50 is not None:
        out["p50_minus_baseline_ms"] = out["p50_ms"] - baseline_p50
    return out


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    ram = float("nan")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": ram,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def measure(repeat: int, cli: list[str], cli_module: str, importtime_runs: int) -> dict[str, Any]:
    python = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="warden-startup-"))
    try:
        env = os.environ | {
            "WARDEN_HOME": str(tmp / "home"),
            "WARDEN_DATABASE_URL": f"sqlite:///{tmp / 'warden.db'}",
            "WARDEN_ACTOR": "bench-oncall",
            "COLUMNS": "100",
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _timed([*cli, "db", "upgrade"], tmp, env)  # the store exists before the first kill
        agent = iter(range(1_000_000))
        cases: dict[str, Any] = {
            "python -c pass": lambda: [python, "-c", "pass"],
            "import warden": lambda: [python, "-c", "import warden"],
            "warden --help": lambda: [*cli, "--help"],
            # --force: each round kills a new agent, which the store has never seen
            "warden kill": lambda: [*cli, "kill", f"A{next(agent)}", "--reason", "R", "--force"],
        }
        names = list(cases)
        samples: dict[str, list[float]] = {name: [] for name in names}
        load_before = [round(x, 2) for x in os.getloadavg()]
        for rnd in range(repeat + 1):  # round 0 warms up (byte-code, page cache): not counted
            order = names[rnd % len(names) :] + names[: rnd % len(names)]
            for name in order:
                seconds = _timed(cases[name](), tmp, env)
                if rnd:
                    samples[name].append(seconds)
        imports = {
            module: [importtime_ms(python, module, tmp, env) for _ in range(importtime_runs)]
            for module in ("warden", cli_module)
        }
        load_after = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    baseline = _summary(samples["python -c pass"], None)
    wall = {"python -c pass": baseline} | {
        name: _summary(samples[name], baseline["p50_ms"]) for name in names[1:]
    }
    importtime = {
        module: {
            "cumulative_ms": statistics.median(ms for ms, _ in runs),
            "modules": int(statistics.median(n for _, n in runs)),
            "runs": len(runs),
        }
        for module, runs in imports.items()
    }
    targets = {
        name: {
            "target_ms": target,
            "p50_ms": round(wall[name]["p50_ms"], 1),
            "met": wall[name]["p50_ms"] <= target,
        }
        for name, target in TARGETS_MS.items()
    }
    return {
        "machine": _machine() | {"loadavg_before": load_before, "loadavg_after": load_after},
        "config": {
            "repeat": repeat,
            "python": python,
            "cli": shlex.join(cli),
            "cli_module": cli_module,
            "importtime_runs": importtime_runs,
        },
        "wall": wall,
        "importtime": importtime,
        "targets": targets,
    }


def print_report(out: dict[str, Any]) -> None:
    m, c = out["machine"], out["config"]
    print(f"warden start-up  {m['date']}")
    print(
        f"  machine : {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}"
    )
    busy = max(m["loadavg_before"][0], m["loadavg_after"][0]) > 0.5 * (m["nproc"] or 1)
    print(
        f"  load avg: {m['loadavg_before']} before, {m['loadavg_after']} after"
        + ("  (WARNING: other work is using the CPUs; numbers are pessimistic)" if busy else "")
    )
    print(f"  cli     : {c['cli']}  ({c['repeat']} interleaved rounds after 1 warm-up)")
    print()
    print(
        f"  {'wall time, ms':<18} {'p50':>8} {'p99':>8} {'mean':>8} {'min':>8} {'p50 - base':>11}"
    )
    for name, s in out["wall"].items():
        extra = s.get("p50_minus_baseline_ms")
        print(
            f"  {name:<18} {s['p50_ms']:8.1f} {s['p99_ms']:8.1f} {s['mean_ms']:8.1f} "
            f"{s['min_ms']:8.1f} {'' if extra is None else f'{extra:11.1f}'}"
        )
    print()
    print("  python -X importtime, cumulative (median):")
    for module, it in out["importtime"].items():
        print(f"    import {module:<22} {it['cumulative_ms']:8.1f} ms  ({it['modules']} modules)")
    print()
    for name, t in out["targets"].items():
        verdict = "met" if t["met"] else "NOT MET"
        print(f"  target {name:<14} p50 <= {t['target_ms']:g} ms: {t['p50_ms']:g} ms, {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start-up time of import warden, warden --help and warden kill."
    )
    parser.add_argument("--repeat", "-n", type=int, default=15, help="interleaved rounds")
    parser.add_argument(
        "--cli",
        default=None,
        help='the warden command (default: the "warden" script beside this Python)',
    )
    parser.add_argument(
        "--cli-module", default="warden.cli.main", help="the CLI's module, for importtime"
    )
    parser.add_argument(
        "--importtime-runs", type=int, default=5, help="python -X importtime runs per module"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document, not text")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.importtime_runs < 1:
        parser.error("--repeat and --importtime-runs must be at least 1")
    cli = shlex.split(args.cli) if args.cli else _default_cli()
    out = measure(args.repeat, cli, args.cli_module, args.importtime_runs)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print_report(out)
    if args.check and not all(t["met"] for t in out["targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
