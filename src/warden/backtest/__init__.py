"""Policy backtest: replay recorded runs through a spec and count what it would have done.

Sources: AgentDojo recorded runs, OTLP/JSON traces with GenAI conventions, and Warden's own
store. Replay drives the same ``PolicySession`` as the live runtime.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from warden.backtest.formats.agentdojo import load_agentdojo
from warden.backtest.formats.otlp_json import load_otlp_json
from warden.backtest.formats.warden_runs import from_detail, load_store_runs, load_warden_jsonl
from warden.backtest.records import RecordedCall, RecordedRun, RunLabels
from warden.backtest.replay import ReplayedCall, ReplayedRun, replay, replay_all
from warden.backtest.report import AttackMetrics, Backtest, load_ground_truth, summarise

__all__ = [
    "AttackMetrics",
    "Backtest",
    "Format",
    "RecordedCall",
    "RecordedRun",
    "ReplayedCall",
    "ReplayedRun",
    "RunLabels",
    "from_detail",
    "load_ground_truth",
    "load_runs",
    "load_store_runs",
    "replay",
    "replay_all",
    "summarise",
]

Format = Literal["agentdojo", "otlp-json", "warden"]


def load_runs(path: str | Path, fmt: Format) -> Iterator[RecordedRun]:
    """Recorded runs from ``path`` in format ``fmt``.

    Raises:
        ConfigError: Missing path or malformed content.
    """
    if fmt == "agentdojo":
        return load_agentdojo(path)
    if fmt == "otlp-json":
        return load_otlp_json(path)
    return load_warden_jsonl(path)
