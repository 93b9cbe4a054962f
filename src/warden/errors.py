"""Warden's one exception tree.

Every error carries a stable ``code`` (a dotted string that never changes meaning once
released) so that scripts, the CLI's ``--json`` output and the API can match on it instead
of on message text.

```
BaseException
├── WardenSignal                 control flow: not an error, must not be swallowed
│   └── RunRerouted              the run is not the agent's to do: its work takes the fallback
│       └── KillSwitchEngaged    the agent's kill switch is on; the run ends `killed`
└── Exception
    └── WardenError
        ├── ConfigError          the user's input is wrong: fix the file or the call
        │   ├── SpecError        an agent spec failed to load or validate (lists every problem)
        │   ├── ToolRegistrationError  a tool function cannot be governed as written
        │   └── StoreConfigError bad database URL or unusable store location
        ├── ControlError         an operator's act was refused (rollout, scope change)
        │   ├── TransitionConflict   someone else changed the rollout first (compare-and-set)
        │   └── GateNotPassed    the gate of the current stage failed or is inconclusive
        └── RunError             something went wrong while governing a run
            ├── PolicyDenied     the policy denied a call (rule and reason attached)
            │   └── ApprovalDenied   a human denied the approval request
            ├── ApprovalTimeout  nobody decided an approval request in time
            ├── BudgetExceeded   a per-run or per-day budget is spent
            ├── ToolInputError   arguments failed validation; the tool was not executed
            ├── ToolOutputError  the tool's result does not match its declared return type
            ├── ToolExecutionError   the tool raised (after any retries)
            │   └── ToolTimeoutError the tool did not return within its timeout
            ├── ModelOutputError a model's structured output stayed invalid after re-asks
            ├── StoreUnavailable the store cannot be reached; write tools fail closed
            ├── RunStateError    the run was used after it ended, or entered twice
            └── NotFoundError    a run, approval or agent that does not exist
```

`KillSwitchEngaged` derives from `BaseException` (like `KeyboardInterrupt`) so that a tool's
or an agent's `except Exception:` cannot swallow it. Catch `RunRerouted` at the agent's loop:
it covers the kill switch and runs outside the canary slice (or paused, rolled back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "ApprovalDenied",
    "ApprovalTimeout",
    "BudgetExceeded",
    "ConfigError",
    "ControlError",
    "GateNotPassed",
    "KillSwitchEngaged",
    "ModelOutputError",
    "NotFoundError",
    "PolicyDenied",
    "RunError",
    "RunRerouted",
    "RunStateError",
    "SpecError",
    "SpecProblem",
    "StoreConfigError",
    "StoreUnavailable",
    "ToolExecutionError",
    "ToolInputError",
    "ToolOutputError",
    "ToolRegistrationError",
    "ToolTimeoutError",
    "TransitionConflict",
    "WardenError",
    "WardenSignal",
]


class WardenError(Exception):
    """Base of every Warden error.

    Attributes:
        code: Stable machine-readable code, e.g. ``"policy.denied"``.
        message: Human-readable explanation.
    """

    code: ClassVar[str] = "warden.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"code": ..., "message": ...}`` for JSON output."""
        return {"code": self.code, "message": self.message}


# --- user / configuration errors -------------------------------------------------------


class ConfigError(WardenError):
    """The user's input (a file, an argument, a setting) is wrong."""

    code = "config.invalid"


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One problem found in an agent spec.

    Attributes:
        file: Path of the spec file as given.
        line: 1-based line number the problem points at (0 when unknown).
        path: Dotted field path, e.g. ``spec.tools.route_ticket.access``.
        message: What is wrong, in plain words.
    """

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class SpecError(ConfigError):
    """An agent spec could not be loaded; ``problems`` lists every problem found."""

    code = "spec.invalid"

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid spec")

    def to_dict(self) -> dict[str, Any]:
        """Return the code, message and each problem as a dict."""
        return {
            "code": self.code,
            "message": f"{len(self.problems)} problem(s) in the agent spec",
            "problems": [
                {"file": p.file, "line": p.line, "path": p.path, "message": p.message}
                for p in self.problems
            ],
        }


class ToolRegistrationError(ConfigError):
    """A function registered with ``@wd.tool`` cannot be governed as written."""

    code = "tool.registration"


class StoreConfigError(ConfigError):
    """The database URL or store location is unusable."""

    code = "store.config"


# --- control-plane errors ----------------------------------------------------------------


class ControlError(WardenError):
    """An operator's act (advance, rollback, spec apply or approve) was refused."""

    code = "control.refused"


class TransitionConflict(ControlError):
    """Someone else changed the rollout between reading it and writing it; read and retry."""

    code = "rollout.conflict"


class GateNotPassed(ControlError):
    """The gate of the current stage is not passed (failed, or inconclusive for lack of data).

    Attributes:
        status: ``fail`` or ``inconclusive``.
    """

    code = "rollout.gate"

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


# --- runtime errors --------------------------------------------------------------------


class RunError(WardenError):
    """Something went wrong while governing a run."""

    code = "run.error"


class PolicyDenied(RunError):
    """The policy denied a tool call. The tool was not executed.

    Attributes:
        tool: Tool name.
        rule: Name of the rule that decided, e.g. ``"access"``.
        reason: One sentence a non-engineer understands.
    """

    code = "policy.denied"

    def __init__(self, tool: str, rule: str, reason: str) -> None:
        super().__init__(f"{tool}: denied by {rule}: {reason}")
        self.tool = tool
        self.rule = rule
        self.reason = reason


class ApprovalDenied(PolicyDenied):
    """A human denied the approval request for a call."""

    code = "approval.denied"


class ApprovalTimeout(RunError):
    """An approval request was not decided within the spec's approval timeout."""

    code = "approval.timeout"


class BudgetExceeded(RunError):
    """A budget limit was reached.

    Attributes:
        limit: Which limit, e.g. ``"per_run.max_cost_usd"``.
        used: Amount used when the limit was hit (unit of the limit).
        allowed: The limit itself.
    """

    code = "budget.exceeded"

    def __init__(self, limit: str, used: float, allowed: float) -> None:
        super().__init__(f"budget {limit} exceeded: used {used:g} of {allowed:g}")
        self.limit = limit
        self.used = used
        self.allowed = allowed


class ToolInputError(RunError):
    """A tool call's arguments failed validation; the tool was not executed."""

    code = "tool.input_invalid"


class ToolOutputError(RunError):
    """A tool returned a value that does not match its declared return type."""

    code = "tool.output_invalid"


class ToolExecutionError(RunError):
    """A tool raised an exception (after the retries its spec allows)."""

    code = "tool.failed"


class ToolTimeoutError(ToolExecutionError):
    """A tool did not return within its ``timeout_s``."""

    code = "tool.timeout"


class ModelOutputError(RunError):
    """A model's structured output stayed invalid after the allowed re-asks."""

    code = "model.output_invalid"


class StoreUnavailable(RunError):
    """The store cannot be reached. Write tools do not run; records are spooled locally."""

    code = "store.unavailable"


class RunStateError(RunError):
    """The run was used in a way its state does not allow (e.g. a call after it ended)."""

    code = "run.state"


class NotFoundError(RunError):
    """A run, approval, spec version or agent that does not exist."""

    code = "not_found"


# --- control-flow signals --------------------------------------------------------------


class WardenSignal(BaseException):
    """Base of control-flow signals. Derives from BaseException on purpose."""

    code: ClassVar[str] = "signal"


class RunRerouted(WardenSignal):
    """The run is not the agent's to do: its work goes to the fallback.

    Raised when entering a run whose mode is ``fallback`` (outside the canary slice, the
    rollout paused or rolled back, the rollout state unreadable) after the run was
    recorded; with the ``human_queue`` fallback a handoff packet is already queued.

    Attributes:
        agent: Agent name.
        route: ``human_queue`` or the version label of the earlier version to run instead.
        reason: Why, in plain words.
    """

    code = "run.rerouted"

    def __init__(self, agent: str, route: str, reason: str) -> None:
        super().__init__(f"{agent}: rerouted to {route}: {reason}")
        self.agent = agent
        self.route = route
        self.reason = reason


class KillSwitchEngaged(RunRerouted):
    """The agent's kill switch is on. Raised at run start and before every call.

    Attributes:
        agent: Agent name.
        reason: The reason given when the switch was flipped.
    """

    code = "kill_switch.engaged"

    def __init__(self, agent: str, reason: str) -> None:
        BaseException.__init__(self, f"kill switch engaged for {agent}: {reason}")
        self.agent = agent
        self.route = "human_queue"
        self.reason = reason
