"""Idempotency keys: a retried or repeated write is applied once.

The key is derived from the agent, the run and the exact arguments
(``SHA-256(agent, run id, tool, arguments hash)``), so the same write in the same run
always carries the same key, across retries and across a process restart that resumes
the run. The tool receives it (``idempotency_key`` parameter) to pass to the system it
writes to. Once a write succeeded, its result is stored under the key; calling it again
returns the stored result without executing the tool (status ``reused``).
"""

from __future__ import annotations

import hashlib

from warden.core.clock import Clock
from warden.core.events import IdempotencyRecorded
from warden.core.ports import RuntimeStore
from warden.core.runs import IdempotencyRecord, ToolCallStatus
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.recorder import Recorder

__all__ = ["Idempotency", "idempotency_key"]


def idempotency_key(agent: str, run_id: str, args_hash: str) -> str:
    """The idempotency key of a call: ``idem_`` + 40 hex chars."""
    digest = hashlib.sha256(f"{agent}\x00{run_id}\x00{args_hash}".encode()).hexdigest()
    return f"idem_{digest[:40]}"


class Idempotency:
    """Interceptor: derive the key for idempotent and side-effecting tools; reuse results.

    Args:
        store: Where applied writes are looked up by key (across processes and restarts).
        recorder: Records each applied write under its key.
        clock: Time of the record.
    """

    def __init__(self, store: RuntimeStore, recorder: Recorder, clock: Clock) -> None:
        self.store = store
        self.recorder = recorder
        self.clock = clock

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Return the stored result of an applied write, or run it and store the result."""
        spec_tool = ctx.spec_tool
        if spec_tool is None or not (spec_tool.idempotent or spec_tool.has_side_effects):
            return proceed(ctx)
        run = ctx.run
        key = ctx.idempotency_key = ctx.idempotency_key or idempotency_key(
            run.spec.name, run.id, ctx.call.args_hash
        )
        seen = self.store.get_idempotency(key) if spec_tool.has_side_effects else None
        if seen is None:
            seen = run.applied_writes.get(key)
        if seen is not None:
            ctx.status = ToolCallStatus.REUSED
            ctx.result_json = seen.result
            return ctx.tool.validate_result(seen.result) if ctx.tool else seen.result
        result = proceed(ctx)
        if spec_tool.has_side_effects:
            record = IdempotencyRecord(
                key=key,
                run_id=run.id,
                tool=ctx.call.tool,
                args_hash=ctx.call.args_hash,
                result=ctx.result_json,
                created_at=self.clock.now(),
            )
            run.applied_writes[key] = record
            self.recorder.emit(IdempotencyRecorded(record=record))
        return result
