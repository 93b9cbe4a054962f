"""Policy: decide each call from the agent spec and the run state. Pure; no I/O."""

from warden.policy.engine import decide
from warden.policy.expressions import ExpressionError, evaluate

__all__ = ["ExpressionError", "decide", "evaluate"]
