"""AgentDojo recorded runs (``runs/<pipeline>/<suite>/<user_task>/<attack>/<task>.json``,
or the JSON-lines export of them in ``shared/data/agentdojo``).

Trusted input is what the operator and the user wrote: the system and user messages.
Each ``tool`` message is one executed call (``tool_call.function`` / ``args``) with its
result (``content``, or ``error`` when the tool raised). ``content`` is a string in older
runs and a list of ``{type, content}`` blocks in newer ones.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from warden.backtest.records import RecordedCall, RecordedRun, RunLabels
from warden.errors import ConfigError

__all__ = ["load_agentdojo", "parse_agentdojo_run"]


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for block in cast(list[Any], content):
            if isinstance(block, dict):
                value = cast(dict[str, Any], block).get("content")
                parts.append(value if isinstance(value, str) else json.dumps(value))
            else:
                parts.append(str(block))
        return "\n".join(parts)
    return json.dumps(content)


def parse_agentdojo_run(data: dict[str, Any], *, run_id: str = "") -> RecordedRun:
    """One AgentDojo run (a parsed JSON object) as a ``RecordedRun``.

    Raises:
        ConfigError: The object has no ``messages`` list.
    """
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise ConfigError("an AgentDojo run needs a 'messages' list")
    trusted: list[str] = []
    calls: list[RecordedCall] = []
    for raw in cast(list[Any], messages):
        if not isinstance(raw, dict):
            continue
        msg = cast(dict[str, Any], raw)
        role = msg.get("role")
        if role in ("system", "user"):
            trusted.append(_text(msg.get("content")))
        elif role == "tool":
            tool_call = cast(dict[str, Any], msg.get("tool_call") or {})
            error = msg.get("error")
            calls.append(
                RecordedCall(
                    tool=str(tool_call.get("function", "")),
                    arguments=cast(dict[str, Any], tool_call.get("args") or {}),
                    result=None if error else _text(msg.get("content")),
                    error=str(error) if error else None,
                )
            )
    injection = data.get("injection_task_id")
    path = str(data.get("_path") or "")
    # `pipeline_name` is "local" for self-hosted models; the run's path names the pipeline.
    parts = path.split("/")
    pipeline = (
        parts[1] if len(parts) > 2 and parts[0] == "runs" else str(data.get("pipeline_name") or "")
    )
    labels = RunLabels(
        suite=str(data.get("suite_name") or ""),
        pipeline=pipeline,
        user_task=str(data.get("user_task_id") or ""),
        injection_task=str(injection) if injection else None,
        attack_type=str(data.get("attack_type")) if data.get("attack_type") else None,
        utility=data.get("utility") if isinstance(data.get("utility"), bool) else None,
        security=data.get("security") if isinstance(data.get("security"), bool) else None,
    )
    rid = run_id or str(data.get("_path") or f"{labels.pipeline}/{labels.suite}/{labels.user_task}")
    return RecordedRun(id=rid, input="\n\n".join(trusted), calls=calls, labels=labels)


def load_agentdojo(path: str | Path) -> Iterator[RecordedRun]:
    """Runs from a ``.jsonl``/``.jsonl.gz`` file, a single ``.json`` run, or a directory of
    either (searched recursively, in sorted order).

    Raises:
        ConfigError: The path does not exist, or a line is not a JSON object (names the
            file and line).
    """
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"no such file or directory: {root}")
    files = (
        sorted(
            p
            for p in root.rglob("*")
            if p.suffix in (".json", ".jsonl") or p.name.endswith(".jsonl.gz")
        )
        if root.is_dir()
        else [root]
    )
    for file in files:
        if file.suffix == ".json":
            yield parse_agentdojo_run(
                _load_json(file, file.read_text(encoding="utf-8"), 1), run_id=str(file)
            )
            continue
        opener = gzip.open if file.name.endswith(".gz") else open
        with opener(file, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    yield parse_agentdojo_run(_load_json(file, line, lineno))


def _load_json(file: Path, text: str, lineno: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file}:{lineno}: not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{file}:{lineno}: expected a JSON object (one run)")
    return cast(dict[str, Any], value)
