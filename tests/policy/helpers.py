"""Builders shared by the policy tests."""

from __future__ import annotations

from typing import Any

from warden.core.calls import CallInput, RunState
from warden.core.spec import AgentSpec


def make_spec(tools: dict[str, dict[str, Any]], **policy: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": "support-bot",
                "version": "1",
                "owner": "alice",
                "backup_owner": "bob",
                "runbook": "docs/runbook.md",
            },
            "spec": {"scope": "Support tickets.", "tools": tools, "policy": policy},
        }
    )


def make_call(tool: str, **arguments: Any) -> CallInput:
    return CallInput(agent="support-bot", run_id="run-1", tool=tool, arguments=arguments)


def fresh(run_input: Any = "") -> RunState:
    return RunState.start("support-bot", "run-1", run_input)
