"""``warden spec validate`` refuses hostile or runaway YAML fast: an alias bomb, a 50 MB
file and 100,000-deep nesting each end with ``FILE:LINE: path: message`` and exit 2, never
a hang or a traceback.

Each case runs the real command in a fresh interpreter, with a timeout (a hang fails the
test instead of stalling the suite), and is timed against validating the page-long example
spec, so interpreter start-up is not counted. The time compared is the child's CPU time: on
a busy machine the wall clock measures the neighbours.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).parents[2] / "examples" / "ticket_router" / "agent.yaml"

HEADER = """\
apiVersion: warden/v1
kind: Agent
metadata:
  name: tiny
  version: "1"
  owner: alice
  backup_owner: bob
  runbook: docs/runbook.md
spec:
  scope: Does one thing.
"""


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def validate(path: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``warden spec validate PATH``: the result, its CPU time and its wall time (s)."""
    cpu, wall = _children_cpu_s(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "warden.cli", "spec", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, _children_cpu_s() - cpu, time.perf_counter() - wall


def billion_laughs(path: Path) -> None:
    """Ten levels of nine aliases each: 9**10 (3.5 billion) strings once expanded."""
    lines = ["  out_of_scope:", "    - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"    - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")


def fifty_megabytes(path: Path) -> None:
    """The example spec with 900,000 more ``out_of_scope`` items: about 50 MB of valid YAML."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("  out_of_scope:\n") == 1
    head, tail = text.split("  out_of_scope:\n")
    with path.open("w", encoding="utf-8") as fh:
        fh.write(head + "  out_of_scope:\n")
        fh.writelines(
            f"    - item number {i:08d} with some padding text here\n" for i in range(900_000)
        )
        fh.write(tail)


def deep_lists(path: Path) -> None:
    path.write_text(HEADER + "  out_of_scope: " + "[" * 100_000 + "]" * 100_000 + "\n")


def deep_mappings(path: Path) -> None:
    # 50,000 levels: 250 KB (100,000 would be refused as larger than 256 KiB)
    path.write_text(HEADER + "  out_of_scope: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n")


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (billion_laughs, "more than 10,000 values"),
        (fifty_megabytes, "larger than 256 KiB"),
        (deep_lists, "nested more than 64 levels deep"),
        (deep_mappings, "nested more than 64 levels deep"),
    ],
    ids=["billion-laughs", "50-MB", "100k-deep-lists", "50k-deep-mappings"],
)
def test_hostile_yaml_is_refused_with_file_line_and_exit_2_in_under_a_second(
    tmp_path: Path, write: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "agent.yaml"
    write(path)
    baseline, page, _ = validate(EXAMPLE)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr

    done, elapsed, wall = validate(path)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stdout.splitlines()
    assert re.match(rf"{re.escape(str(path))}:[1-9][0-9]*: \S+: ", line), line
    assert message in line
    assert elapsed - page < 1.0, f"{elapsed:.2f} s CPU ({wall:.2f} s wall), example {page:.2f} s"
