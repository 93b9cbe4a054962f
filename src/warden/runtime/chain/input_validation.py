"""Input validation: invalid arguments are never executed, and the record says why."""

from __future__ import annotations

from warden.core.calls import CallInput
from warden.core.runs import ToolCallStatus
from warden.errors import ToolInputError
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.tools import GovernedTool, check_depth

__all__ = ["InputValidation"]


class InputValidation:
    """Interceptor: validate and coerce arguments with the tool's signature.

    Unregistered tools keep their raw arguments: the policy decides about them (an unknown
    tool is denied) and a registered-nowhere tool that the spec allows fails at execution.
    Arguments nested deeper than ``core.calls.MAX_ARGUMENT_DEPTH`` are refused first, for
    every tool, before anything recursive (validation, hashing, the policy) touches them;
    the record keeps a note in their place.
    """

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Replace the call's arguments with validated ones, or raise ``ToolInputError``."""
        try:
            check_depth(ctx.call.tool, ctx.call.arguments)
        except ToolInputError:
            ctx.status = ToolCallStatus.INVALID
            call = ctx.call
            ctx.call = CallInput(
                agent=call.agent,
                run_id=call.run_id,
                tool=call.tool,
                arguments=GovernedTool.arguments_as_json(call.arguments),
                seq=call.seq,
            )
            raise
        if ctx.tool is not None:
            try:
                arguments = ctx.tool.validate_arguments(ctx.call.arguments)
            except Exception:
                ctx.status = ToolCallStatus.INVALID
                raise
            call = ctx.call
            ctx.call = CallInput(
                agent=call.agent,
                run_id=call.run_id,
                tool=call.tool,
                arguments=arguments,
                seq=call.seq,
            )
        return proceed(ctx)
