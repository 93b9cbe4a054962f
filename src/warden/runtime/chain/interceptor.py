"""The interceptor chain every tool call goes through: its context, its links, its assembly.

An interceptor is a callable ``(ctx, proceed) -> result``: it may look at or change the
call context, call ``proceed(ctx)`` to go on down the chain, or raise to stop the call
there. Each interceptor is built once per governor with the collaborators it needs (kill
switch, recorder, store, clock); the ``CallContext`` carries only the call and the state
of the run making it (``RunView``). The chain, outermost first::

    tracing? → kill switch → budget → input validation → policy (+ approval, shadow)
      → write-ahead (fail closed) → idempotency → retry → timeout → the tool itself
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from warden.core.calls import CallInput
from warden.core.decisions import Decision
from warden.core.runs import IdempotencyRecord, RunMode, ToolCallStatus
from warden.core.spec import AgentSpec, RunBudget, ToolSpec
from warden.policy.session import PolicySession
from warden.runtime.budget import Usage
from warden.runtime.tools import GovernedTool

__all__ = ["CallContext", "Interceptor", "Proceed", "RunView", "build_chain"]


class RunView(Protocol):
    """What an interceptor sees of the run making a call: its own state, nothing shared.

    ``warden.runtime.run.Run`` is the implementation; tests of one interceptor pass a
    small fake.
    """

    id: str
    spec: AgentSpec
    mode: RunMode
    usage: Usage
    limits: RunBudget
    policy: PolicySession
    applied_writes: dict[str, IdempotencyRecord]
    waiting_s: float
    """Seconds spent waiting for people (approvals): reported, not charged to the budget."""

    @property
    def spec_hash(self) -> str:
        """Content hash of the spec version the run started with."""
        ...

    @property
    def elapsed_s(self) -> float:
        """Seconds since the run started."""
        ...

    @property
    def working_s(self) -> float:
        """``elapsed_s`` less ``waiting_s``: what the wall-clock budget is charged."""
        ...

    def emit_progress(self, ctx: CallContext, *, waiting: bool) -> None:
        """Record the call still in progress (e.g. waiting for a person)."""
        ...


@dataclass(slots=True)
class CallContext:
    """Everything known about one tool call while it moves down the chain.

    Attributes:
        run: The run making the call.
        call: The call (arguments replaced by validated ones after input validation).
        spec_tool: The tool's spec, or None when the spec does not list it.
        tool: The registered function, or None when none is registered.
        status: What became of the call (set by whichever interceptor ends it).
        decision: The policy decision, once made.
        attempts: Times the tool function ran.
        idempotency_key: Key for writes, once derived.
        approval_id: Approval request, when one was needed.
        result_json: The result as JSON-able data, for the record.
    """

    run: RunView
    call: CallInput
    spec_tool: ToolSpec | None
    tool: GovernedTool | None
    status: ToolCallStatus | None = None
    decision: Decision | None = None
    attempts: int = 0
    idempotency_key: str | None = None
    approval_id: str | None = None
    result_json: Any = None
    extra: dict[str, Any] = field(default_factory=dict[str, Any])


Proceed = Callable[[CallContext], Any]
"""The rest of the chain."""


class Interceptor(Protocol):
    """One link of the chain."""

    def __call__(self, ctx: CallContext, proceed: Proceed, /) -> Any:
        """Handle the call, usually by calling ``proceed(ctx)``."""
        ...


def build_chain(interceptors: Sequence[Interceptor], terminal: Proceed) -> Proceed:
    """Compose ``interceptors`` (outermost first) around ``terminal``."""
    chain = terminal
    for interceptor in reversed(interceptors):
        chain = _link(interceptor, chain)
    return chain


def _link(interceptor: Interceptor, nxt: Proceed) -> Proceed:
    def step(ctx: CallContext) -> Any:
        return interceptor(ctx, nxt)

    return step
