"""Warden's own runs: from the store (``--agent A --since 7d``) or a JSON-lines export of
``warden runs show --json`` objects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from warden.backtest.records import RecordedCall, RecordedRun, RunLabels
from warden.core.ports import Store
from warden.core.runs import RunDetail, RunFilter, ToolCallStatus
from warden.errors import ConfigError

__all__ = ["from_detail", "load_store_runs", "load_warden_jsonl"]

_EXECUTED = {ToolCallStatus.SUCCEEDED, ToolCallStatus.FAILED, ToolCallStatus.REUSED}


def from_detail(detail: RunDetail) -> RecordedRun:
    """A stored run as a ``RecordedRun``: its input, and each tool call with what became of it
    and the decision recorded live."""
    calls = [
        RecordedCall(
            tool=c.tool,
            arguments=c.arguments,
            executed=c.status in _EXECUTED,
            proposed=c.status is ToolCallStatus.PROPOSED,
            result=c.result if c.status is not ToolCallStatus.FAILED else None,
            error=(c.error or "failed") if c.status is ToolCallStatus.FAILED else None,
            recorded_decision=c.decision,
        )
        for c in detail.tool_calls
    ]
    run = detail.run
    return RecordedRun(
        id=run.id, agent=run.agent, input=run.input, calls=calls, labels=RunLabels(suite=run.agent)
    )


def load_store_runs(
    store: Store, agent: str, since: datetime, *, limit: int = 10_000
) -> Iterator[RecordedRun]:
    """The agent's runs started since ``since`` (at most ``limit``), oldest first."""
    records = store.list_runs(RunFilter(agent=agent, since=since, limit=limit))
    for record in reversed(records):
        detail = store.get_run(record.id)
        if detail is not None:
            yield from_detail(detail)


def load_warden_jsonl(path: str | Path) -> Iterator[RecordedRun]:
    """Runs from a file with one ``RunDetail`` JSON object per line.

    Raises:
        ConfigError: Missing file, or a line that is not a run (names file and line).
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no such file: {file}")
    with file.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                detail = RunDetail.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                raise ConfigError(f"{file}:{lineno}: not a Warden run: {first['msg']}") from None
            yield from_detail(detail)
