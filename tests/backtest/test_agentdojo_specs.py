"""The AgentDojo specs are written from the tools, never from the attacks; the bundled
ground truth is what the package says; the command runs on every suite, unchanged."""

from __future__ import annotations

import gzip
import json
import os
import re
import runpy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.backtest.synth import synth_runs, write_jsonl
from warden.backtest import load_ground_truth
from warden.cli.main import app
from warden.core.spec_loader import load_spec

agentdojo = pytest.importorskip("agentdojo")
from agentdojo.task_suite.load_suites import get_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "agentdojo"
SHARED = Path(os.environ.get("WARDEN_SHARED_DIR") or ROOT.parent / "shared") / "data" / "agentdojo"
SUITES = ("banking", "slack", "travel", "workspace")
IDENTIFIERS = [
    re.compile(r"(?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?", re.I),
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b"),
    re.compile(r"\+?\d[\d ()-]{7,}\d"),
]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def attacker_literals(suite_name: str) -> set[str]:
    """Every identifier in the injection tasks' goals and ground-truth arguments, plus
    every whole ground-truth argument value of 6+ characters."""
    suite = get_suite("v1.2.1", suite_name)
    env = suite.load_and_inject_default_environment({})
    found: set[str] = set()
    for task in suite.injection_tasks.values():
        texts = [task.GOAL] + [s for c in task.ground_truth(env) for s in _strings(dict(c.args))]
        for text in texts:
            found |= {m.group(0).rstrip(".") for p in IDENTIFIERS for m in p.finditer(text)}
            if len(text.strip()) >= 6 and "\n" not in text:
                found.add(text.strip())
    return {f for f in found if len(f) >= 6}


@pytest.mark.parametrize("suite", SUITES)
def test_no_attacker_literal_appears_in_any_spec(suite: str) -> None:
    literals = attacker_literals(suite)
    assert literals, "the check must have literals to look for"
    assert any("@" in lit or "www." in lit or lit[:2].isalpha() for lit in literals)
    for spec_file in sorted(SPECS.glob("*.yaml")):
        text = spec_file.read_text().casefold()
        leaked = sorted(lit for lit in literals if lit.casefold() in text)
        assert not leaked, f"{spec_file.name} contains attacker literals of {suite}: {leaked}"


@pytest.mark.parametrize("suite", SUITES)
def test_each_suite_has_a_valid_spec(suite: str) -> None:
    spec = load_spec(SPECS / f"{suite}.yaml")
    package_tools = {t.name for t in get_suite("v1.2.1", suite).tools}
    assert set(spec.spec.tools) == package_tools, "the spec must govern exactly the suite's tools"


def test_bundled_ground_truth_is_what_the_package_says() -> None:
    script = runpy.run_path(str(ROOT / "bench" / "agentdojo_ground_truth.py"))
    derived = script["derive"]("v1.2.1")
    bundled = json.loads(
        (ROOT / "src/warden/backtest/data/agentdojo_ground_truth.json").read_text()
    )
    assert derived == bundled, "re-run bench/agentdojo_ground_truth.py"
    truth = load_ground_truth()
    assert truth.known("banking", "injection_task_0")
    assert truth.known("workspace", "injection_task_13")


@pytest.mark.parametrize("suite", ["travel", "workspace"])
def test_the_same_command_runs_on_suites_without_recorded_runs(suite: str, tmp_path) -> None:
    runs = write_jsonl(synth_runs(suite, max_user_tasks=3), tmp_path / f"{suite}.jsonl")
    result = CliRunner().invoke(
        app,
        [
            "policy",
            "backtest",
            "--spec",
            str(SPECS / f"{suite}.yaml"),
            "--runs",
            str(runs),
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    overall = report["overall"]
    n_inj = len(get_suite("v1.2.1", suite).injection_tasks)
    assert overall["runs"] == 3 * (1 + n_inj)
    assert overall["benign"] == 3
    assert overall["attacked"] == 3 * n_inj
    assert report["by_suite"].keys() == {suite}
    # Attacks whose ground truth makes a harmful call are all intercepted at or before it.
    assert overall["attempts"] > 0
    assert overall["attempt_interception_rate"] == 1.0
    assert overall["false_blocks"] == 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared AgentDojo runs not beside the repository")
@pytest.mark.parametrize(
    ("suite", "runs", "attacked", "successful"),
    [("banking", 7214, 6514, 1549), ("slack", 5453, 4725, 1851)],
)
def test_shared_runs_parse_to_the_published_counts(suite, runs, attacked, successful) -> None:
    from warden.backtest import load_runs

    loaded = list(load_runs(SHARED / f"{suite}.jsonl.gz", "agentdojo"))
    assert len(loaded) == runs
    assert sum(r.labels.injection_task is not None for r in loaded) == attacked
    assert sum(bool(r.labels.injection_task and r.labels.security) for r in loaded) == successful
    with gzip.open(SHARED / f"{suite}.jsonl.gz", "rt") as fh:
        first = json.loads(fh.readline())
    tool_messages = [m for m in first["messages"] if m["role"] == "tool"]
    assert len(loaded[0].calls) == len(tool_messages)
