"""Across processes: a kill switch flipped elsewhere stops a running loop, and a process
that dies leaves its run ``interrupted``, not lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warden.core.clock import SystemClock
from warden.core.runs import RunStatus
from warden.runtime.heartbeat import reap_interrupted

pytestmark = pytest.mark.slow

AGENT_LOOP = r"""
import json, sys, time
from warden import KillSwitchEngaged, Warden
from warden.core.spec import AgentSpec

spec = AgentSpec.model_validate(json.loads(sys.argv[1]))
log_path, mode = sys.argv[2], sys.argv[3]
wd = Warden.open(spec, spool_dir=sys.argv[4], kill_switch_ttl_s=0.1, heartbeat_s=0.2, tracing=False)

@wd.tool
def step(i: int) -> int:
    with open(log_path, "a") as fh:
        fh.write(f"{time.time()} {i}\n")
    return i

try:
    with wd.run(input="loop") as run:
        print(run.id, flush=True)
        if mode == "hang":
            run.call("step", i=0)
            wd.flush()
            time.sleep(120)
        deadline = time.time() + 20
        i = 0
        while time.time() < deadline:
            run.call("step", i=i)
            i += 1
            time.sleep(0.02)
        run.resolve()
except KillSwitchEngaged:
    print("killed", flush=True)
wd.close()
"""


def _spawn(
    tmp_path: Path, database_url: str, spec_factory, mode: str
) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "agent_loop.py"
    script.write_text(AGENT_LOOP)
    spec = spec_factory({"step": {"access": "read"}}, policy={"max_repeated_calls": 1000})
    log = tmp_path / f"steps-{mode}.log"
    env = {**os.environ, "WARDEN_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            spec.model_dump_json(by_alias=True),
            str(log),
            mode,
            str(tmp_path / "spool"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return proc, log


def _wait_lines(path: Path, n: int, timeout_s: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text().splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} steps in {path}")


def test_kill_switch_from_another_process_stops_the_loop_before_its_next_call(
    tmp_path, database_url, spec_factory, store
) -> None:
    proc, log = _spawn(tmp_path, database_url, spec_factory, "loop")
    try:
        run_id = proc.stdout.readline().strip()
        assert run_id.startswith("run_"), proc.stderr.read()
        _wait_lines(log, 5)
        env = {**os.environ, "WARDEN_DATABASE_URL": database_url, "WARDEN_ACTOR": "oncall-dana"}
        kill = subprocess.run(
            [sys.executable, "-m", "warden.cli", "kill", "test-agent", "--reason", "bad refunds"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        killed_at = time.time()
        assert kill.returncode == 0, kill.stderr
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "killed" in out
    last_step = float(log.read_text().splitlines()[-1].split()[0])
    # The kill committed before `warden kill` returned; the loop checks every 0.1 s (TTL).
    assert last_step < killed_at + 0.5
    detail = store.get_run(run_id)
    assert detail.run.status is RunStatus.KILLED
    assert "bad refunds" in detail.run.reason
    assert store.get_kill_switch("test-agent").actor == "oncall-dana"


def test_killed_process_leaves_its_run_interrupted(
    tmp_path, database_url, spec_factory, store
) -> None:
    proc, log = _spawn(tmp_path, database_url, spec_factory, "hang")
    try:
        run_id = proc.stdout.readline().strip()
        assert run_id.startswith("run_"), proc.stderr.read()
        _wait_lines(log, 1)
        time.sleep(0.5)
        # Alive and beating: not reaped.
        assert reap_interrupted(store, SystemClock(), stale_after_s=1.0) == []
        assert store.get_run(run_id).run.status is RunStatus.RUNNING
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    time.sleep(1.2)
    assert reap_interrupted(store, SystemClock(), stale_after_s=1.0) == [run_id]
    detail = store.get_run(run_id)
    assert detail.run.status is RunStatus.INTERRUPTED
    assert detail.run.ended_at is not None
    assert "heartbeat" in detail.run.reason
    assert [c.tool for c in detail.tool_calls] == ["step"]  # what it did before dying is kept
