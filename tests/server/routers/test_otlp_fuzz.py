"""Fuzz ``/v1/traces`` (``routers/otlp.py``) with raw bodies: the schema cannot describe
them, so Hypothesis writes them.

Arbitrary bytes and JSON documents under any content type, mutations of a real OTel SDK
export, and structured ``ExportTraceServiceRequest`` messages with random GenAI spans, as
protobuf and as JSON. Never a 5xx; a 200 is an ``ExportTraceServiceResponse``. Examples
are derandomized and bounded (``tests/server/fuzzing.py``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tests.conftest import make_spec
from tests.server.conftest import ROUTER_TOOLS, Api
from tests.server.fuzzing import (
    AGENT,
    EXAMPLES,
    OTLP_JSON,
    OTLP_PROTOBUF,
    STR_MAX,
    fuzz_settings,
)
from tests.telemetry.test_otlp_ingest import agent_spans
from warden.control.scope import apply_spec
from warden.core.clock import SystemClock
from warden.store import SqlStore
from warden.store import tables as t


def _post_traces(api: Api, body: bytes, content_type: str | None) -> Any:
    headers = {**api.as_("reviewer")}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.post("/v1/traces", content=body, headers=headers)


def _check_traces_response(response: Any, content_type: str | None, spans: int | None) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:300]}"
    if status != 200:
        assert 400 <= status < 500, status
        assert isinstance(response.json()["error"]["code"], str)
        return
    parsed = ExportTraceServiceResponse()
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == OTLP_JSON:
        assert response.headers["content-type"].startswith(OTLP_JSON)
        json_format.Parse(response.text or "{}", parsed)
    else:
        assert response.headers["content-type"].startswith(OTLP_PROTOBUF)
        parsed.ParseFromString(response.content)
    if spans is not None:
        assert 0 <= parsed.partial_success.rejected_spans <= spans


CONTENT_TYPES = st.sampled_from(
    [
        OTLP_PROTOBUF,
        OTLP_JSON,
        "application/json; charset=utf-8",
        "APPLICATION/X-PROTOBUF",
        "text/plain",
        "",
        None,
    ]
)


@pytest.fixture
def valid_export() -> bytes:
    """One real export from the OpenTelemetry SDK (6 spans, GenAI conventions)."""
    return encode_spans(agent_spans()).SerializeToString()


def _json_not_an_object(body: bytes, content_type: str | None) -> bool:
    """The ``otlp-json-not-an-object`` known bug: a JSON body that parses to a non-object."""
    if not (content_type or "").lower().startswith(OTLP_JSON):
        return False
    try:
        return not isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return False


_json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["resourceSpans", "scopeSpans", "spans", "traceId", "x"]) | st.text(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())


def test_traces_arbitrary_bytes_never_5xx(api: Api) -> None:
    @fuzz_settings(EXAMPLES * 4)
    @given(body=st.binary(max_size=4096) | _json_documents, content_type=CONTENT_TYPES)
    def run(body: bytes, content_type: str | None) -> None:
        response = _post_traces(api, body, content_type)
        _check_traces_response(response, content_type, None)

    run()


def test_traces_mutated_sdk_exports_never_5xx(api: Api, valid_export: bytes) -> None:
    """Flip, cut and splice bytes of a real export: the protobuf parser sees almost-valid data."""

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(valid_export)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            if op == "flip":
                data[i] = draw(st.integers(0, 255))
            elif op == "cut":
                del data[i : i + draw(st.integers(1, 16))]
            elif op == "insert":
                data[i:i] = draw(st.binary(min_size=1, max_size=16))
            else:
                del data[i:]
            if not data:
                break
        return bytes(data)

    @fuzz_settings(EXAMPLES * 3)
    @given(body=mutated())
    def run(body: bytes) -> None:
        response = _post_traces(api, body, OTLP_PROTOBUF)
        _check_traces_response(response, OTLP_PROTOBUF, None)

    run()


# Structured OTLP requests. Mostly well-formed values, plus what once gave a 500 (see
# KNOWN_BUGS in test_fuzz_known_bugs.py): token counts that are strings, NaN or beyond an
# ``integer`` column, NUL characters, strings longer than the varchar(64) and varchar(128)
# columns.
_GENAI_KEYS = [
    "gen_ai.operation.name",
    "gen_ai.agent.name",
    "gen_ai.conversation.id",
    "gen_ai.tool.name",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.input.messages",
]
_TOKEN_KEYS = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
]
_OPERATIONS = ["invoke_agent", "execute_tool", "chat", "text_completion", "generate_content"]
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40) | st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), min_size=STR_MAX - 2, max_size=140
)
_json_text = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
).map(json.dumps)


def _any_value(draw: st.DrawFn, key: str, depth: int = 0) -> AnyValue:
    if key in _TOKEN_KEYS and draw(st.integers(0, 3)):  # 3 in 4: a plausible count
        kind = draw(st.sampled_from(["int", "double", "bool", "none"]))
        if kind == "int":
            return AnyValue(int_value=draw(st.integers(0, 10**7)))
        if kind == "double":
            return AnyValue(double_value=draw(st.floats(0, 1e7)))
        if kind == "bool":
            return AnyValue(bool_value=draw(st.booleans()))
        return AnyValue()
    if key == "gen_ai.operation.name":
        return AnyValue(string_value=draw(st.sampled_from(_OPERATIONS) | _text))
    kind = draw(st.sampled_from(["str", "json", "int", "double", "bool", "bytes", "array", "kv"]))
    if kind == "str":
        return AnyValue(string_value=draw(_text))
    if kind == "json":
        return AnyValue(string_value=draw(_json_text))
    if kind == "int":
        return AnyValue(int_value=draw(st.integers(-(2**63), 2**63 - 1)))
    if kind == "double":
        return AnyValue(double_value=draw(st.floats()))
    if kind == "bool":
        return AnyValue(bool_value=draw(st.booleans()))
    if kind == "bytes":
        return AnyValue(bytes_value=draw(st.binary(max_size=16)))
    if depth >= 2:
        return AnyValue()
    if kind == "array":
        value = AnyValue()
        for _ in range(draw(st.integers(0, 3))):
            value.array_value.values.append(_any_value(draw, "", depth + 1))
        return value
    value = AnyValue()
    for _ in range(draw(st.integers(0, 3))):
        value.kvlist_value.values.append(
            KeyValue(key=draw(_text), value=_any_value(draw, "", depth + 1))
        )
    return value


def _attributes(draw: st.DrawFn, agent_names: list[str]) -> list[KeyValue]:
    attrs: list[KeyValue] = []
    for key in draw(st.lists(st.sampled_from(_GENAI_KEYS + _TOKEN_KEYS), max_size=8)):
        if key == "gen_ai.agent.name" and draw(st.booleans()):
            attrs.append(
                KeyValue(key=key, value=AnyValue(string_value=draw(st.sampled_from(agent_names))))
            )
        else:
            attrs.append(KeyValue(key=key, value=_any_value(draw, key)))
    return attrs


@st.composite
def export_requests(draw: st.DrawFn) -> tuple[ExportTraceServiceRequest, int]:
    """A random export: a few traces of GenAI-ish spans, some malformed; and its span count."""
    agent_names = [AGENT, "other-agent", draw(_text)]
    # Valid ids are never all zero (OTLP): a derandomized run draws zeros first, and would
    # then send only malformed ids; the malformed ones come from the second strategies.
    trace_ids = [draw(st.binary(min_size=16, max_size=16).filter(any)) for _ in range(3)]
    span_ids = st.binary(min_size=8, max_size=8).filter(any) | st.binary(max_size=10)
    request = ExportTraceServiceRequest()
    total = 0
    for _ in range(draw(st.integers(1, 2))):
        rs = ResourceSpans(resource=Resource(attributes=_attributes(draw, agent_names)))
        spans: list[Span] = []
        for _ in range(draw(st.integers(0, 12))):
            start = draw(st.integers(0, 2**64 - 2) | st.integers(1.7e18, 1.8e18))
            end = draw(st.integers(0, 2**64 - 1) | st.integers(start, start + 10**10))
            op = draw(st.sampled_from([*_OPERATIONS, "GET", ""]))
            span = Span(
                trace_id=draw(st.sampled_from(trace_ids) | st.binary(max_size=17)),
                span_id=draw(span_ids),
                name=f"{op} {draw(_text)}",
                start_time_unix_nano=start,
                end_time_unix_nano=min(end, 2**64 - 1),
                attributes=_attributes(draw, agent_names),
                status=Status(code=draw(st.integers(0, 2)), message=draw(_text)),
            )
            spans.append(span)
        total += len(spans)
        rs.scope_spans.append(ScopeSpans(spans=spans))
        request.resource_spans.append(rs)
    return request, total


def test_traces_structured_exports_never_5xx(api: Api, store: SqlStore) -> None:
    apply_spec(store, make_spec(ROUTER_TOOLS), actor="alice@example.com", clock=SystemClock())

    @fuzz_settings(EXAMPLES * 4)
    @given(generated=export_requests(), as_json=st.booleans())
    def run(generated: tuple[ExportTraceServiceRequest, int], as_json: bool) -> None:
        request, spans = generated
        if as_json:
            body, content_type = json_format.MessageToJson(request).encode(), OTLP_JSON
        else:
            body, content_type = request.SerializeToString(), OTLP_PROTOBUF
        _check_traces_response(_post_traces(api, body, content_type), content_type, spans)

    run()
    # The generator does reach the store: some traces became runs.
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.runs)).scalar_one()
    assert stored > 0
