"""Pure models and protocols: the agent spec, calls, decisions, runs, events, the store ports.

No I/O here beyond reading a spec file; no database driver is ever imported.

The names below are imported on first use (PEP 562): importing one core module (the clock,
say) does not build every pydantic model of the core.
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports

if TYPE_CHECKING:
    from warden.core.calls import CallInput, RunState, arguments_hash, canonical_json
    from warden.core.clock import Clock, FakeClock, SystemClock
    from warden.core.decisions import RULES, Decision, RuleHit, RuleMode, Verdict
    from warden.core.killswitch import KillSwitchState
    from warden.core.ports import ControlStore, RuntimeStore, Store
    from warden.core.runs import (
        ApprovalRequest,
        ApprovalStatus,
        Handoff,
        ModelCallRecord,
        RunDetail,
        RunFilter,
        RunMode,
        RunRecord,
        RunStatus,
        ToolCallRecord,
        ToolCallStatus,
    )
    from warden.core.spec import Access, AgentSpec, ToolSpec
    from warden.core.spec_loader import load_spec, parse_spec

__all__ = [
    "RULES",
    "Access",
    "AgentSpec",
    "ApprovalRequest",
    "ApprovalStatus",
    "CallInput",
    "Clock",
    "ControlStore",
    "Decision",
    "FakeClock",
    "Handoff",
    "KillSwitchState",
    "ModelCallRecord",
    "RuleHit",
    "RuleMode",
    "RunDetail",
    "RunFilter",
    "RunMode",
    "RunRecord",
    "RunState",
    "RunStatus",
    "RuntimeStore",
    "Store",
    "SystemClock",
    "ToolCallRecord",
    "ToolCallStatus",
    "ToolSpec",
    "Verdict",
    "arguments_hash",
    "canonical_json",
    "load_spec",
    "parse_spec",
]

# The module that defines each name.
_LAZY = {
    **dict.fromkeys(["CallInput", "RunState", "arguments_hash", "canonical_json"], ".calls"),
    **dict.fromkeys(["Clock", "FakeClock", "SystemClock"], ".clock"),
    **dict.fromkeys(["RULES", "Decision", "RuleHit", "RuleMode", "Verdict"], ".decisions"),
    "KillSwitchState": ".killswitch",
    **dict.fromkeys(["ControlStore", "RuntimeStore", "Store"], ".ports"),
    **dict.fromkeys(
        [
            "ApprovalRequest",
            "ApprovalStatus",
            "Handoff",
            "ModelCallRecord",
            "RunDetail",
            "RunFilter",
            "RunMode",
            "RunRecord",
            "RunStatus",
            "ToolCallRecord",
            "ToolCallStatus",
        ],
        ".runs",
    ),
    **dict.fromkeys(["Access", "AgentSpec", "ToolSpec"], ".spec"),
    **dict.fromkeys(["load_spec", "parse_spec"], ".spec_loader"),
}

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
