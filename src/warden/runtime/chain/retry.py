"""Retries with exponential backoff and jitter (tenacity) for tools safe to retry.

Only read tools and tools marked ``idempotent`` are retried (a write retried without an
idempotency key could apply twice). Up to the tool's ``max_attempts``; waits grow
exponentially from ``INITIAL_WAIT_S`` with random jitter up to ``MAX_WAIT_S`` (AWS
Architecture Blog, "Exponential Backoff and Jitter", 2015). The kill switch is checked
before every retry, and waits use the injected clock. Errors that retrying cannot fix
(invalid output, policy, kill switch) are not retried.
"""

from __future__ import annotations

import random
from typing import NoReturn

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from warden.core.clock import Clock
from warden.errors import RunError, ToolExecutionError, WardenError
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.killswitch import KillSwitch

__all__ = ["INITIAL_WAIT_S", "MAX_WAIT_S", "Retry"]

INITIAL_WAIT_S = 0.1
"""First backoff, seconds."""
MAX_WAIT_S = 5.0
"""Longest backoff, seconds."""


def _retryable(exc: BaseException) -> bool:
    # A tool's own exceptions are retried; Warden's decisions and signals are not, except
    # a tool timeout (the tool may answer next time).
    if isinstance(exc, WardenError):
        return isinstance(exc, ToolExecutionError)
    return isinstance(exc, Exception)


class Retry:
    """Interceptor: retry the rest of the chain for retryable tools.

    The first attempt runs directly (no tenacity machinery on the hot path); only a
    retryable failure hands the remaining attempts to tenacity.

    Args:
        kill_switch: Checked fresh before every retry.
        clock: Waits between attempts (injected: tests and replays do not sleep).
    """

    def __init__(self, kill_switch: KillSwitch, clock: Clock) -> None:
        self.kill_switch = kill_switch
        self.clock = clock

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Run ``proceed`` up to ``max_attempts`` times; raise ``ToolExecutionError`` at the end."""
        spec_tool = ctx.spec_tool
        attempts = spec_tool.max_attempts if spec_tool is not None and spec_tool.retryable else 1
        try:
            return proceed(ctx)
        except Exception as exc:
            if attempts == 1 or not _retryable(exc):
                _raise_as_tool_error(ctx, exc)
        clock = self.clock
        self.kill_switch.check(fresh=True)
        clock.sleep(INITIAL_WAIT_S + random.uniform(0, INITIAL_WAIT_S))

        def before_sleep(state: RetryCallState) -> None:
            self.kill_switch.check(fresh=True)

        retrying = Retrying(
            stop=stop_after_attempt(attempts - 1),
            wait=wait_exponential(multiplier=2 * INITIAL_WAIT_S, max=MAX_WAIT_S)
            + wait_random(0, INITIAL_WAIT_S),
            retry=retry_if_exception(_retryable),
            sleep=clock.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(proceed, ctx)
        except Exception as exc:
            _raise_as_tool_error(ctx, exc)


def _raise_as_tool_error(ctx: CallContext, exc: Exception) -> NoReturn:
    if isinstance(exc, RunError):
        raise exc
    raise ToolExecutionError(
        f"{ctx.call.tool} failed after {ctx.attempts} attempt(s): {type(exc).__name__}: {exc}"
    ) from exc
