"""Warden: the operations layer for AI agents.

A spec for every agent (owner, scope, tools and their access, budgets, escalation),
enforced on every tool and model call, with every run recorded.

    from warden import Warden
    wd = Warden.open("agents/ticket-router.yaml")
"""

from warden.core import (
    Access,
    AgentSpec,
    CallInput,
    Decision,
    FakeClock,
    RunMode,
    RunState,
    RunStatus,
    SystemClock,
    ToolCallStatus,
    Verdict,
    load_spec,
    parse_spec,
)
from warden.errors import (
    ApprovalDenied,
    ApprovalTimeout,
    BudgetExceeded,
    ConfigError,
    KillSwitchEngaged,
    ModelOutputError,
    NotFoundError,
    PolicyDenied,
    RunError,
    RunRerouted,
    RunStateError,
    SpecError,
    StoreUnavailable,
    ToolExecutionError,
    ToolInputError,
    ToolOutputError,
    ToolTimeoutError,
    WardenError,
    WardenSignal,
)
from warden.policy import decide
from warden.runtime import Governor, Proposal, Run
from warden.sdk import Warden

__version__ = "0.1.0"

__all__ = [
    "Access",
    "AgentSpec",
    "ApprovalDenied",
    "ApprovalTimeout",
    "BudgetExceeded",
    "CallInput",
    "ConfigError",
    "Decision",
    "FakeClock",
    "Governor",
    "KillSwitchEngaged",
    "ModelOutputError",
    "NotFoundError",
    "PolicyDenied",
    "Proposal",
    "Run",
    "RunError",
    "RunMode",
    "RunRerouted",
    "RunState",
    "RunStateError",
    "RunStatus",
    "SpecError",
    "StoreUnavailable",
    "SystemClock",
    "ToolCallStatus",
    "ToolExecutionError",
    "ToolInputError",
    "ToolOutputError",
    "ToolTimeoutError",
    "Verdict",
    "Warden",
    "WardenError",
    "WardenSignal",
    "__version__",
    "decide",
    "load_spec",
    "parse_spec",
]
