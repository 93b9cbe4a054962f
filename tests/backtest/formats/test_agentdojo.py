"""Parsing AgentDojo recorded runs."""

from __future__ import annotations

import pytest

from warden.backtest import load_runs
from warden.backtest.formats.agentdojo import parse_agentdojo_run
from warden.errors import ConfigError


def test_agentdojo_run_with_string_and_block_content() -> None:
    data = {
        "suite_name": "banking",
        "pipeline_name": "local",
        "user_task_id": "user_task_1",
        "injection_task_id": "injection_task_2",
        "attack_type": "important_instructions",
        "utility": False,
        "security": True,
        "_path": "runs/Meta-SecAlign-70B/banking/user_task_1/important_instructions/injection_task_2.json",
        "messages": [
            {"role": "system", "content": "You are a bank assistant."},
            {"role": "user", "content": [{"type": "text", "content": "What is my balance?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": "get_balance", "args": {}, "id": "1"}],
            },
            {
                "role": "tool",
                "content": "1810.0",
                "tool_call": {"function": "get_balance", "args": {}},
                "error": None,
            },
            {
                "role": "tool",
                "content": "",
                "tool_call": {"function": "read_file", "args": {"file_path": "x"}},
                "error": "FileNotFound",
            },
        ],
    }
    run = parse_agentdojo_run(data)
    assert run.labels.pipeline == "Meta-SecAlign-70B"  # "local" resolved from the path
    assert run.labels.injection_task == "injection_task_2"
    assert "What is my balance?" in run.input
    assert "You are a bank assistant." in run.input
    assert [(c.tool, c.result, c.error) for c in run.calls] == [
        ("get_balance", "1810.0", None),
        ("read_file", None, "FileNotFound"),  # an error, never a result
    ]
    with pytest.raises(ConfigError):
        parse_agentdojo_run({"suite_name": "x"})


def test_agentdojo_loader_names_the_bad_line(tmp_path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text('{"messages": []}\nnot json\n')
    with pytest.raises(ConfigError, match=r"runs.jsonl:2: not JSON"):
        list(load_runs(path, "agentdojo"))
