"""Write-ahead and fail-closed: before a tool with side effects runs, everything the run
recorded so far must be durable in the store. If the store cannot be reached, the write
does not run (``StoreUnavailable``); the records are spooled and replayed later.
"""

from __future__ import annotations

from warden.core.runs import ToolCallStatus
from warden.errors import StoreUnavailable
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.recorder import Recorder

__all__ = ["WriteAhead"]


class WriteAhead:
    """Interceptor: flush the recorder synchronously before any write/approval tool.

    Args:
        recorder: The governor's batched recorder.
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Flush, or refuse the write when the store is down."""
        if ctx.spec_tool is not None and ctx.spec_tool.has_side_effects:
            try:
                self.recorder.flush()
            except StoreUnavailable:
                ctx.status = ToolCallStatus.NOT_RUN
                raise
        return proceed(ctx)
