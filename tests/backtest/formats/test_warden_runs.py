"""Warden's own runs: a JSON-lines export of ``warden runs show --json``."""

from __future__ import annotations

import pytest

from warden.backtest import load_runs
from warden.errors import ConfigError


def test_warden_jsonl_errors_name_the_line(tmp_path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text('{"run": {}}\n')
    with pytest.raises(ConfigError, match=r"runs.jsonl:1: not a Warden run"):
        list(load_runs(path, "warden"))
