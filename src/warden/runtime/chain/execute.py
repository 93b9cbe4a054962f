"""The end of the chain: run the tool function (with its timeout) and validate the result."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from warden.core.runs import ToolCallStatus
from warden.errors import ToolRegistrationError, ToolTimeoutError
from warden.runtime.chain.interceptor import CallContext

__all__ = ["execute_tool"]

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="warden-tool")


def execute_tool(ctx: CallContext) -> Any:
    """Call the registered function once.

    A tool with ``timeout_s`` runs in a worker thread; when it does not return in time the
    call fails with ``ToolTimeoutError`` (a started thread cannot be stopped and is left to
    finish, its result discarded; a call still queued behind busy workers is cancelled and
    never runs). A ``TimeoutError`` the tool raises itself is the tool's error.

    Raises:
        ToolRegistrationError: No function is registered for the tool (not retried).
        ToolTimeoutError: The tool exceeded ``timeout_s``.
        ToolOutputError: The result does not match the return annotation.
        Exception: Whatever the tool raised.
    """
    tool = ctx.tool
    if tool is None:
        ctx.status = ToolCallStatus.NOT_RUN
        raise ToolRegistrationError(
            f"the spec allows {ctx.call.tool!r} but no function is registered for it (@wd.tool)"
        )
    kwargs = dict(ctx.call.arguments)
    if tool.takes_idempotency_key:
        kwargs["idempotency_key"] = ctx.idempotency_key
    ctx.attempts += 1
    timeout = ctx.spec_tool.timeout_s if ctx.spec_tool is not None else None
    if timeout is None:
        value = tool.fn(**kwargs)
    else:
        future = _POOL.submit(tool.fn, **kwargs)
        try:
            value = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            if future.done() and not future.cancelled():
                raise  # the tool's own TimeoutError (the same class since Python 3.11)
            future.cancel()  # still queued behind hung tools: it must never run later
            raise ToolTimeoutError(f"{ctx.call.tool} did not return within {timeout:g} s") from None
    result = tool.validate_result(value)
    ctx.result_json = tool.result_as_json(result)
    ctx.status = ToolCallStatus.SUCCEEDED
    return result
