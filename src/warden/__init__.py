"""Warden: the operations layer for AI agents.

A spec for every agent (owner, scope, tools and their access, budgets, escalation),
enforced on every tool and model call, with every run recorded.

    from warden import Warden
    wd = Warden.open("agents/ticket-router.yaml")

The names below are imported on first use (PEP 562), so ``import warden`` (and every
``warden`` command, which imports this package first) stays fast; the errors are cheap and
imported at once.
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports
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

if TYPE_CHECKING:
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

# Where each lazily imported name lives (the same packages as before they were lazy).
_LAZY = {
    **dict.fromkeys(
        [
            "Access",
            "AgentSpec",
            "CallInput",
            "Decision",
            "FakeClock",
            "RunMode",
            "RunState",
            "RunStatus",
            "SystemClock",
            "ToolCallStatus",
            "Verdict",
            "load_spec",
            "parse_spec",
        ],
        "warden.core",
    ),
    "decide": "warden.policy",
    "Governor": "warden.runtime",
    "Proposal": "warden.runtime",
    "Run": "warden.runtime",
    "Warden": "warden.sdk",
}


if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
