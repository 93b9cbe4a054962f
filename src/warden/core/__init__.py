"""Pure models and protocols: the agent spec, calls, decisions, runs, events, the store ports.

No I/O here beyond reading a spec file; no database driver is ever imported.
"""

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
