"""``routers/otlp.py``: OTLP/HTTP ingest as protobuf and JSON; a token bound to another agent
has its spans rejected; an unreadable body is a JSON 400. (Raw-body fuzzing:
``test_otlp_fuzz.py``.)"""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.telemetry.test_otlp_ingest import agent_spans


def test_otlp_ingest_protobuf_and_json(api, store, spec_factory) -> None:
    body = encode_spans(agent_spans()).SerializeToString()
    r = api.client.post(
        "/v1/traces",
        content=body,
        headers={**api.as_("router-bot"), "Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200
    response = ExportTraceServiceResponse()
    response.ParseFromString(r.content)
    assert response.partial_success.rejected_spans == 0
    (run,) = store.list_runs(
        __import__("warden.core.runs", fromlist=["RunFilter"]).RunFilter(agent="test-agent")
    )
    assert run.id.startswith("otel-")
    assert [c.tool for c in store.get_run(run.id).tool_calls] == [
        "search_web",
        "send_email",
        "issue_refund",
    ]
    # A token bound to another agent cannot write these traces.
    r2 = api.client.post(
        "/v1/traces",
        content=body,
        headers={**api.as_("other-bot"), "Content-Type": "application/x-protobuf"},
    )
    response.ParseFromString(r2.content)
    assert response.partial_success.rejected_spans == 1
    bad = api.client.post(
        "/v1/traces",
        content=b"{nope",
        headers={**api.as_("reviewer"), "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "otlp.invalid"
