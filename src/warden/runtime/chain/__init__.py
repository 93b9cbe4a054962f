"""The interceptor chain: one module per link, each built with its collaborators.

In the order a tool call meets them (``Governor`` assembles them once)::

    killswitch_gate → budget_gate → input_validation → policy_gate (approval_wait, shadow)
      → write_ahead → idempotency → retry → execute (timeout, output validation)

``interceptor`` holds what they share: ``CallContext`` (the call and the run's own state,
``RunView``), the ``Interceptor`` protocol and ``build_chain``.
"""

from warden.runtime.chain.approval_wait import ApprovalWait
from warden.runtime.chain.budget_gate import BudgetGate
from warden.runtime.chain.execute import execute_tool
from warden.runtime.chain.idempotency import Idempotency, idempotency_key
from warden.runtime.chain.input_validation import InputValidation
from warden.runtime.chain.interceptor import (
    CallContext,
    Interceptor,
    Proceed,
    RunView,
    build_chain,
)
from warden.runtime.chain.killswitch_gate import KillSwitchGate
from warden.runtime.chain.policy_gate import PolicyGate
from warden.runtime.chain.retry import Retry
from warden.runtime.chain.write_ahead import WriteAhead

__all__ = [
    "ApprovalWait",
    "BudgetGate",
    "CallContext",
    "Idempotency",
    "InputValidation",
    "Interceptor",
    "KillSwitchGate",
    "PolicyGate",
    "Proceed",
    "Retry",
    "RunView",
    "WriteAhead",
    "build_chain",
    "execute_tool",
    "idempotency_key",
]
