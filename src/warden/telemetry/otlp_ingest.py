"""OTLP trace ingest: OpenTelemetry GenAI spans from any framework become Warden runs.

Accepts an ``ExportTraceServiceRequest`` (OTLP/HTTP, ``application/x-protobuf`` or
``application/json``, the official ``opentelemetry-proto`` messages) and maps it:

- one trace is one run (id ``otel-<trace id>``); the agent is ``gen_ai.agent.name`` on any
  span of the trace; ``gen_ai.conversation.id`` is the routing key; the ``invoke_agent``
  span's status decides ``resolved`` or ``failed``;
- each ``execute_tool`` span is a tool call (``gen_ai.tool.name``,
  ``gen_ai.tool.call.arguments`` as JSON text, ``gen_ai.tool.call.result``), evaluated
  against the agent's spec in **audit mode**: the call already happened, so the recorded
  decision allows it and lists every rule that *would have* denied or asked for approval;
- each ``chat`` / ``text_completion`` / ``generate_content`` span is a model call
  (``gen_ai.request.model`` or ``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` /
  ``output_tokens``, or the older ``gen_ai.usage.prompt_tokens`` / ``completion_tokens``).

Spans that are none of these are counted as ignored; spans without ids or times are
rejected and reported (OTLP ``partial_success``), never raised. So is a whole trace whose
agent, conversation, tool, model or provider name is longer than the store keeps
(``MAX_LENGTHS``): the other traces of the export are stored. NUL characters, which
PostgreSQL refuses in text and JSON, arrive as U+FFFD. Source: OpenTelemetry
semantic conventions for GenAI (semantic-conventions-genai), OTLP specification 1.x.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from warden.core.calls import CallInput
from warden.core.events import Event, ModelCallRecorded, RunRecorded, ToolCallRecorded
from warden.core.pricing import cost_usd
from warden.core.runs import ModelCallRecord, RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.core.spec import AgentSpec
from warden.errors import ConfigError
from warden.policy.session import PolicySession

__all__ = ["MAX_LENGTHS", "IngestResult", "audit_spec", "decode_request", "map_request"]

_MODEL_OPS = {"chat", "text_completion", "generate_content"}

MAX_LENGTHS: dict[str, int] = {
    "gen_ai.agent.name": 64,
    "gen_ai.conversation.id": 256,
    "gen_ai.tool.name": 128,
    "gen_ai.request.model": 128,
    "gen_ai.provider.name": 64,
}
"""Longest value, in characters, that each attribute may have: the widths of the store's
columns (``runs.agent``, ``runs.routing_key``, ``tool_calls.tool``, ``model_calls.model``,
``model_calls.provider``). A trace with a longer one is rejected whole."""

_NUL = "\x00"
_REPLACEMENT = "\ufffd"


class _BadRequest(ConfigError):
    code = "otlp.invalid"


def decode_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Parse an OTLP/HTTP trace export body.

    Args:
        body: The request body.
        content_type: ``application/x-protobuf`` or ``application/json``.

    Raises:
        ConfigError: Unsupported content type, or a body that is not a valid request.
    """
    request = ExportTraceServiceRequest()
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == "application/x-protobuf":
            request.ParseFromString(body)
        elif kind == "application/json":
            data = json.loads(body.decode("utf-8"))
            if not isinstance(data, dict):
                raise _BadRequest("an OTLP JSON body must be an object (ExportTraceServiceRequest)")
            json_format.ParseDict(_hex_ids_to_base64(data), request, ignore_unknown_fields=True)
        else:
            raise _BadRequest(
                f"unsupported content type {content_type!r}: use application/x-protobuf or application/json"
            )
    except (
        DecodeError,
        json_format.ParseError,
        UnicodeDecodeError,
        ValueError,
        TypeError,
        RecursionError,
    ) as exc:
        if isinstance(exc, _BadRequest):
            raise
        raise _BadRequest(f"not an OTLP ExportTraceServiceRequest: {exc}") from None
    return request


_ID_LENGTHS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def _hex_ids_to_base64(data: Any) -> Any:
    """OTLP/JSON writes trace and span ids as hex, not proto3-JSON base64 (OTLP spec,
    "JSON Protobuf Encoding"); convert them so the standard parser reads them."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in cast(dict[str, Any], data).items():
            if key in _ID_LENGTHS and isinstance(value, str) and len(value) == _ID_LENGTHS[key]:
                # Not hex: leave it to the parser (already base64, or invalid).
                with contextlib.suppress(ValueError):
                    value = base64.b64encode(bytes.fromhex(value)).decode()
            out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(data, list):
        return [_hex_ids_to_base64(v) for v in cast(list[Any], data)]
    return data


def audit_spec(spec: AgentSpec) -> AgentSpec:
    """``spec`` with every rule advisory: decisions allow, and record what would have been denied."""
    data = spec.model_dump(mode="json", by_alias=True)
    data["spec"]["policy"]["mode"] = "advisory"
    data["spec"]["policy"]["rules"] = {}
    return AgentSpec.model_validate(data)


@dataclass
class IngestResult:
    """What one export request became.

    Attributes:
        events: Records to apply to the store (one transaction).
        runs: Run ids created or updated.
        spans: Spans received.
        accepted: Spans mapped to a run, tool call or model call.
        ignored: Valid spans that are none of those (e.g. HTTP client spans).
        rejected: Spans that could not be read (reported as OTLP ``partial_success``).
        problems: One line per rejected span or oddity (at most 20 kept).
    """

    events: list[Event] = field(default_factory=list[Event])
    runs: list[str] = field(default_factory=list[str])
    spans: int = 0
    accepted: int = 0
    ignored: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list[str])

    def problem(self, text: str) -> None:
        """Record a problem line (kept up to 20)."""
        if len(self.problems) < 20:
            self.problems.append(text)


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "string_value":
        return _text(v.string_value)
    if kind == "bool_value":
        return v.bool_value
    if kind == "int_value":
        return v.int_value
    if kind == "double_value":
        return v.double_value
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {_text(kv.key): _value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return None


def _time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return _without_nul(json.loads(value))
        except (json.JSONDecodeError, RecursionError):
            return value
    return value


def _text(value: str) -> str:
    return value.replace(_NUL, _REPLACEMENT)


def _without_nul(value: Any) -> Any:
    """``value`` (decoded JSON) with NUL characters, which a ``\\u0000`` escape yields, as U+FFFD."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_without_nul(v) for v in cast(list[Any], value)]
    if isinstance(value, dict):
        return {_text(k): _without_nul(v) for k, v in cast(dict[str, Any], value).items()}
    return value


def _oversized(events: list[Event]) -> str | None:
    """The first name in a trace's records longer than ``MAX_LENGTHS`` allows, described."""
    for event in events:
        names: list[tuple[str, str | None]] = []
        if isinstance(event, RunRecorded):
            names = [
                ("gen_ai.agent.name", event.run.agent),
                ("gen_ai.conversation.id", event.run.routing_key),
            ]
        elif isinstance(event, ToolCallRecorded):
            names = [("gen_ai.tool.name", event.call.tool)]
        elif isinstance(event, ModelCallRecorded):
            names = [
                ("gen_ai.request.model", event.call.model),
                ("gen_ai.provider.name", event.call.provider),
            ]
        for key, value in names:
            if value is not None and len(value) > MAX_LENGTHS[key]:
                return f"{key} is {len(value)} characters, longer than {MAX_LENGTHS[key]}"
    return None


def _count(value: Any) -> int:
    """A token count from an attribute; anything but a finite number counts 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return int(number) if number == number and abs(number) < 2**62 else 0


def _operation(span: Span, attrs: dict[str, Any]) -> str:
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str):
        return op
    return span.name.split(" ", 1)[0] if span.name else ""


def map_request(
    request: ExportTraceServiceRequest, spec_for: Callable[[str], AgentSpec | None]
) -> IngestResult:
    """Map an export request to Warden records.

    Args:
        request: The decoded request.
        spec_for: The current spec of an agent by name, or None when unknown (its runs are
            recorded without decisions).
    """
    result = IngestResult()
    traces: defaultdict[bytes, list[tuple[Span, dict[str, Any]]]] = defaultdict(list)
    for rs in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for span in ss.spans:
                result.spans += 1
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    result.rejected += 1
                    result.problem(f"span {span.name!r}: missing or malformed trace/span id")
                    continue
                if (
                    span.start_time_unix_nano == 0
                    or span.end_time_unix_nano < span.start_time_unix_nano
                ):
                    result.rejected += 1
                    result.problem(f"span {span.name!r}: missing or inverted start/end time")
                    continue
                attrs = resource | {kv.key: _value(kv.value) for kv in span.attributes}
                traces[span.trace_id].append((span, attrs))
    for trace_id, spans in traces.items():
        _map_trace(trace_id, spans, spec_for, result)
    return result


def _map_trace(
    trace_id: bytes,
    spans: list[tuple[Span, dict[str, Any]]],
    spec_for: Callable[[str], AgentSpec | None],
    result: IngestResult,
) -> None:
    spans.sort(key=lambda s: s[0].start_time_unix_nano)
    agent = next((str(a["gen_ai.agent.name"]) for _, a in spans if a.get("gen_ai.agent.name")), "")
    relevant = [
        (s, a)
        for s, a in spans
        if _operation(s, a) in ({"invoke_agent", "execute_tool"} | _MODEL_OPS)
    ]
    result.ignored += len(spans) - len(relevant)
    if not relevant:
        return
    if not agent:
        result.rejected += len(relevant)
        result.problem(f"trace {trace_id.hex()}: no gen_ai.agent.name on any span")
        return
    run_id = f"otel-{trace_id.hex()}"
    spec = spec_for(agent)
    first = min(s.start_time_unix_nano for s, _ in relevant)
    last = max(s.end_time_unix_nano for s, _ in relevant)
    root = next((sa for sa in relevant if _operation(*sa) == "invoke_agent"), None)
    failed = root is not None and root[0].status.code == Status.STATUS_CODE_ERROR
    conversation = next(
        (a.get("gen_ai.conversation.id") for _, a in relevant if a.get("gen_ai.conversation.id")),
        None,
    )
    run_input = _json(root[1].get("gen_ai.input.messages")) if root is not None else None
    session = PolicySession.start(audit_spec(spec), run_id, run_input) if spec is not None else None
    events: list[Event] = []
    tool_calls = input_tokens = output_tokens = 0
    cost = 0.0
    seq = 0
    for span, attrs in relevant:
        op = _operation(span, attrs)
        latency = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9
        result.accepted += 1
        if op == "invoke_agent":
            continue
        seq += 1
        if op == "execute_tool":
            tool = str(
                attrs.get("gen_ai.tool.name")
                or _text(span.name.removeprefix("execute_tool ").strip())
            )
            raw_args = _json(attrs.get("gen_ai.tool.call.arguments", "{}"))
            args: dict[str, Any] = (
                cast(dict[str, Any], raw_args)
                if isinstance(raw_args, dict)
                else {"value": raw_args}
            )
            call = CallInput(agent=agent, run_id=run_id, tool=tool, arguments=args, seq=seq)
            decision = None
            if session is not None:
                decision = session.decide(call)
                session.attempted(call)
                session.let_through(call)
            errored = span.status.code == Status.STATUS_CODE_ERROR
            output = _json(attrs.get("gen_ai.tool.call.result"))
            if session is not None:
                if errored:  # an untrusted tool's error text taints, as live (PolicySession)
                    session.failed(tool, _text(span.status.message))
                else:
                    session.observed(tool, output)
            tool_calls += 1
            events.append(
                ToolCallRecorded(
                    call=ToolCallRecord(
                        run_id=run_id,
                        seq=seq,
                        tool=tool,
                        arguments=args,
                        args_hash=call.args_hash,
                        status=ToolCallStatus.FAILED if errored else ToolCallStatus.SUCCEEDED,
                        decision=decision,
                        attempts=1,
                        result=output,
                        error=_text(span.status.message) or None if errored else None,
                        started_at=_time(span.start_time_unix_nano),
                        ended_at=_time(span.end_time_unix_nano),
                        latency_s=latency,
                    )
                )
            )
        elif op in _MODEL_OPS:
            model = str(
                attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model") or "unknown"
            )
            tin = _count(
                attrs.get("gen_ai.usage.input_tokens", attrs.get("gen_ai.usage.prompt_tokens", 0))
            )
            tout = _count(
                attrs.get(
                    "gen_ai.usage.output_tokens", attrs.get("gen_ai.usage.completion_tokens", 0)
                )
            )
            price = cost_usd(model, tin, tout)
            input_tokens, output_tokens, cost = (
                input_tokens + tin,
                output_tokens + tout,
                cost + (price or 0.0),
            )
            events.append(
                ModelCallRecorded(
                    call=ModelCallRecord(
                        run_id=run_id,
                        seq=seq,
                        model=model,
                        provider=str(
                            attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system") or ""
                        ),
                        input_tokens=tin,
                        output_tokens=tout,
                        cost_usd=price,
                        latency_s=latency,
                        error=_text(span.status.message) or "error"
                        if span.status.code == Status.STATUS_CODE_ERROR
                        else None,
                        at=_time(span.end_time_unix_nano),
                    )
                )
            )
    run = RunRecord(
        id=run_id,
        agent=agent,
        spec_hash=spec.content_hash() if spec is not None else "",
        spec_version=spec.metadata.version if spec is not None else "",
        status=RunStatus.FAILED if failed else RunStatus.RESOLVED,
        routing_key=str(conversation) if conversation is not None else None,
        input=run_input,
        reason=(_text(root[0].status.message) if failed and root is not None else None)
        or (
            "Ingested from OpenTelemetry traces"
            + ("" if spec is not None else "; no spec is stored for this agent")
        ),
        started_at=_time(first),
        ended_at=_time(last),
        heartbeat_at=_time(last),
        steps=seq,
        tool_calls=tool_calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost,
        latency_s=(last - first) / 1e9,
        host="otlp",
    )
    events.insert(0, RunRecorded(run=run))
    too_long = _oversized(events)
    if too_long is not None:
        result.accepted -= len(relevant)
        result.rejected += len(relevant)
        result.problem(f"trace {trace_id.hex()}: {too_long}")
        return
    result.events += events
    result.runs.append(run_id)
