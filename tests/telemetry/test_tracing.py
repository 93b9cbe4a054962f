"""Runs, tool calls and model calls become OpenTelemetry spans with the GenAI conventions."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from warden.telemetry import Tracing


def test_spans_follow_the_genai_conventions(make_governor, spec_factory) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(provider)
    spec = spec_factory({"lookup": {"access": "read"}, "refund": {"access": "blocked"}})
    gov = make_governor(spec, interceptors=[tracing], hooks=[tracing])

    @gov.tool
    def lookup(customer_id: str) -> str:
        return "gold"

    with gov.run(input="x", routing_key="cust-9") as run:
        run.call("lookup", customer_id="c1")
        run.record_model_call(
            model="gpt-4o-mini", input_tokens=10, output_tokens=5, latency_s=0.2, provider="openai"
        )
        run.call("refund", amount=1)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {
        "invoke_agent test-agent",
        "execute_tool lookup",
        "execute_tool refund",
        "chat gpt-4o-mini",
    }
    agent = spans["invoke_agent test-agent"]
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "test-agent"
    assert agent.attributes["gen_ai.conversation.id"] == "cust-9"
    assert agent.attributes["warden.run.status"] == "blocked"
    assert agent.status.status_code is StatusCode.ERROR
    tool = spans["execute_tool lookup"]
    assert tool.parent is not None
    assert tool.parent.span_id == agent.context.span_id
    assert tool.attributes["gen_ai.tool.name"] == "lookup"
    assert tool.attributes["warden.decision"] == "allow"
    denied = spans["execute_tool refund"]
    assert denied.attributes["warden.decision"] == "deny"
    assert denied.attributes["warden.decision.rule"] == "access"
    assert denied.status.status_code is StatusCode.ERROR
    chat = spans["chat gpt-4o-mini"]
    assert chat.attributes["gen_ai.usage.input_tokens"] == 10
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.end_time - chat.start_time == 200_000_000
