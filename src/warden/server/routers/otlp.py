"""OTLP/HTTP trace ingest: ``POST /v1/traces`` (protobuf or JSON), GenAI spans to runs.

Answers with an ``ExportTraceServiceResponse`` in the request's encoding; spans that could
not be read, or that belong to another agent than a bound token's, are reported in
``partial_success`` (never a 5xx). Requires a token of role ``reviewer`` or above.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.concurrency import run_in_threadpool

from warden.control.fleet import latest_spec
from warden.core.events import RunRecorded
from warden.core.spec import AgentSpec
from warden.core.tokens import Principal, Role
from warden.server.deps import ServerContext, context, require
from warden.telemetry.otlp_ingest import IngestResult, decode_request, map_request

router = APIRouter(tags=["otlp"])

_MAX_BODY = 16 * 1024 * 1024


@router.post(
    "/v1/traces",
    responses={200: {"content": {"application/x-protobuf": {}, "application/json": {}}}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def export_traces(
    request: Request,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER, agents=True)),
) -> Response:
    """Ingest an ``ExportTraceServiceRequest`` (OTLP/HTTP 1.x)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "application/x-protobuf")
    if len(body) > _MAX_BODY:
        return Response(status_code=413, content=b"")
    # Decoding, mapping and writing are CPU and database work: run them in the
    # threadpool so the event loop keeps serving other requests meanwhile.
    result = await run_in_threadpool(_ingest, ctx, who, body, content_type)
    response = ExportTraceServiceResponse()
    if result.rejected:
        response.partial_success.rejected_spans = result.rejected
        response.partial_success.error_message = "; ".join(result.problems)
    if content_type.split(";")[0].strip().lower() == "application/json":
        return Response(json_format.MessageToJson(response), media_type="application/json")
    return Response(response.SerializeToString(), media_type="application/x-protobuf")


def _run_id(event: object) -> str | None:
    for attr in ("run", "call", "handoff", "record"):
        inner = getattr(event, attr, None)
        if inner is not None:
            return str(getattr(inner, "id", None) or getattr(inner, "run_id", ""))
    return None


def _ingest(ctx: ServerContext, who: Principal, body: bytes, content_type: str) -> IngestResult:
    """Decode, map and store one export (in a worker thread)."""
    decoded = decode_request(body, content_type)
    cache: dict[str, AgentSpec | None] = {}

    def spec_for(agent: str) -> AgentSpec | None:
        if agent not in cache:
            found = latest_spec(ctx.store, agent)
            cache[agent] = found[0] if found else None
        return cache[agent]

    result = map_request(decoded, spec_for)
    if who.agent is not None:  # a bound token writes its own agent's runs only
        foreign = {
            e.run.id
            for e in result.events
            if isinstance(e, RunRecorded) and e.run.agent != who.agent
        }
        if foreign:
            result.problem(
                f"{len(foreign)} trace(s) of other agents refused for a token bound to {who.agent}"
            )
            result.events = [e for e in result.events if _run_id(e) not in foreign]
            result.rejected += len(foreign)
    if result.events:
        ctx.store.apply(result.events)
    return result
