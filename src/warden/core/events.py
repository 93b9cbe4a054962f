"""Records the runtime sends to the store, as a closed, serialisable union.

The batched writer queues these; a store applies a batch in one transaction; when the
store is unreachable they are spooled as JSON lines and replayed later. Applying an event
twice has the same effect as once (upserts keyed by ids), so replay is safe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from warden.core.runs import (
    Handoff,
    IdempotencyRecord,
    ModelCallRecord,
    RunRecord,
    ToolCallRecord,
)

__all__ = [
    "Event",
    "EventAdapter",
    "HandoffCreated",
    "IdempotencyRecorded",
    "ModelCallRecorded",
    "RunHeartbeat",
    "RunRecorded",
    "ToolCallRecorded",
]


def _type_is_required(schema: dict[str, Any]) -> None:
    # ``type`` has a default so Python code need not pass it, but on the wire it picks the
    # variant of the union: the schema must say it is required.
    required: list[str] = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class _Event(BaseModel):
    model_config = ConfigDict(json_schema_extra=_type_is_required)


class RunRecorded(_Event):
    """A run started or changed (upsert; a terminal state is never overwritten)."""

    type: Literal["run"] = "run"
    run: RunRecord


class RunHeartbeat(_Event):
    """The process owning these runs is alive."""

    type: Literal["heartbeat"] = "heartbeat"
    run_ids: list[str]
    at: datetime


class ToolCallRecorded(_Event):
    """A tool call and its decision (upsert by run id and step)."""

    type: Literal["tool_call"] = "tool_call"
    call: ToolCallRecord


class ModelCallRecorded(_Event):
    """A model call (upsert by run id and step)."""

    type: Literal["model_call"] = "model_call"
    call: ModelCallRecord


class HandoffCreated(_Event):
    """A handoff packet placed in a human queue."""

    type: Literal["handoff"] = "handoff"
    handoff: Handoff


class IdempotencyRecorded(_Event):
    """A write applied under an idempotency key, with its result."""

    type: Literal["idempotency"] = "idempotency"
    record: IdempotencyRecord


Event = Annotated[
    RunRecorded
    | RunHeartbeat
    | ToolCallRecorded
    | ModelCallRecorded
    | HandoffCreated
    | IdempotencyRecorded,
    Field(discriminator="type"),
]

EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)
"""Validates and serialises one event (JSON lines in the spool)."""
