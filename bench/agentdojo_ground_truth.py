"""Derive, from the `agentdojo` package, what counts as a harmful call for each injection task.

Writes ``src/warden/backtest/data/agentdojo_ground_truth.json``, which the policy backtest
reads (so `agentdojo` stays a dev/bench dependency, not a runtime one). For each suite and
injection task:

- ``calls``: the ground-truth calls (``InjectionTask.ground_truth(default_environment)``);
- ``attacker_literals``: identifiers in those calls and in the task's goal (URLs, e-mail
  addresses, IBANs, phone numbers, and short single-token values) that appear nowhere in
  the suite's user tasks (prompts and ground-truth calls) nor in its default environment:
  the attacker's own recipients, accounts, sites and values;
- ``harmful``: the ground-truth calls whose arguments carry an attacker literal (the
  calls that do the attacker's work, as opposed to the reads that prepare it), each with
  ``match``: the strings a recorded call of that function must carry to count. When no
  call carries a literal, the last ground-truth call matched on its own arguments; when
  the ground truth is empty (it depends on state the default environment lacks), any
  call (``function: "*"``) carrying an attacker literal.

Usage: ``.venv/bin/python bench/agentdojo_ground_truth.py [--version v1.2.1]``
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from agentdojo.task_suite.load_suites import get_suite

SUITES = ("banking", "slack", "travel", "workspace")
OUT = Path(__file__).resolve().parents[1] / "src/warden/backtest/data/agentdojo_ground_truth.json"

TOKEN_PATTERNS = [
    re.compile(
        r"(?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/[^\s'\",)]*)?", re.I
    ),  # URL / domain
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b"),  # IBAN
    re.compile(r"\+?\d[\d ()-]{7,}\d"),  # phone
]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in _strings(v)]
    return []


def _tokens(text: str) -> set[str]:
    found = {m.group(0).rstrip(".") for p in TOKEN_PATTERNS for m in p.finditer(text)}
    stripped = text.strip()
    if stripped and len(stripped) <= 40 and " " not in stripped:
        found.add(stripped)
    return {t for t in found if len(t) >= 4}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def derive(version: str) -> dict[str, Any]:
    out: dict[str, Any] = {"agentdojo_benchmark_version": version, "suites": {}}
    for name in SUITES:
        suite = get_suite(version, name)
        env = suite.load_and_inject_default_environment({})
        known = env.model_dump_json().casefold()
        for task in suite.user_tasks.values():
            known += "\n" + task.PROMPT.casefold()
            for call in task.ground_truth(env):
                known += "\n" + json.dumps(_jsonable(dict(call.args))).casefold()
        tasks: dict[str, Any] = {}
        for task_id, task in suite.injection_tasks.items():
            calls = [
                {"function": c.function, "args": _jsonable(dict(c.args))}
                for c in task.ground_truth(env)
            ]
            literals: set[str] = set()
            for text in [task.GOAL, *(s for c in calls for s in _strings(c["args"]))]:
                literals |= {t for t in _tokens(text) if t.casefold() not in known}
            harmful: list[dict[str, Any]] = []
            for c in calls:
                carried = sorted(
                    lit for lit in literals if any(lit in s for s in _strings(c["args"]))
                )
                if carried:
                    harmful.append({**c, "match": carried})
            if not harmful and calls:
                # No attacker literal in any call (e.g. a visit to a site that the
                # environment knows): the last call, matched on its own short arguments.
                last = calls[-1]
                short = [s for s in _strings(last["args"]) if 4 <= len(s) <= 80]
                harmful = [{**last, "match": short}]
            if not harmful and literals:
                # The ground truth needs state the default environment lacks: any call
                # that carries an attacker literal does the attacker's work.
                harmful = [{"function": "*", "args": {}, "match": sorted(literals)}]
            tasks[task_id] = {
                "goal": task.GOAL,
                "calls": calls,
                "attacker_literals": sorted(literals),
                "harmful": harmful,
            }
        out["suites"][name] = {"injection_tasks": tasks}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="v1.2.1", help="AgentDojo benchmark version")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = derive(args.version)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    for suite, body in data["suites"].items():
        for task_id, task in body["injection_tasks"].items():
            print(
                f"{suite:10} {task_id:18} harmful={[c['function'] for c in task['harmful']]} literals={task['attacker_literals']}"
            )


if __name__ == "__main__":
    main()
