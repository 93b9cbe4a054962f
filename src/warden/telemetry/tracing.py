"""OpenTelemetry spans for runs, tool calls and model calls, with the GenAI conventions.

Span names and attributes follow the OpenTelemetry GenAI semantic conventions
(``invoke_agent {gen_ai.agent.name}``, ``execute_tool {gen_ai.tool.name}``,
``chat {gen_ai.request.model}``; kind INTERNAL). Policy decisions and cost have no standard
attribute, so they use the ``warden.*`` namespace (``warden.decision``,
``warden.decision.rule``, ``warden.cost.usd``). Uses the global tracer provider: without
an OpenTelemetry SDK configured, spans are no-ops.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from warden.core.runs import ModelCallRecord, RunStatus
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.run import Run

__all__ = ["Tracing"]

_OK_STATES = {RunStatus.RESOLVED, RunStatus.ESCALATED}


class Tracing:
    """Interceptor and run hook emitting OpenTelemetry spans.

    Args:
        tracer_provider: Provider to use (default: the global one).
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer("warden", tracer_provider=tracer_provider)
        self._open: dict[str, tuple[Span, object]] = {}
        self._lock = threading.Lock()

    # -- run span -------------------------------------------------------------------------

    def on_run_start(self, run: Run) -> None:
        """Open ``invoke_agent {agent}`` and make it current for the run's tool spans."""
        span = self.tracer.start_span(
            f"invoke_agent {run.spec.name}",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": run.spec.name,
                "gen_ai.agent.version": run.spec.metadata.version,
                "gen_ai.conversation.id": run.routing_key or run.id,
                "warden.run.id": run.id,
                "warden.run.mode": run.mode.value,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        with self._lock:
            self._open[run.id] = (span, token)

    def on_run_end(self, run: Run) -> None:
        """Close the run span with its terminal state, tokens and cost."""
        with self._lock:
            opened = self._open.pop(run.id, None)
        if opened is None:
            return
        span, token = opened
        span.set_attributes(
            {
                "warden.run.status": run.status.value,
                "gen_ai.usage.input_tokens": run.usage.input_tokens,
                "gen_ai.usage.output_tokens": run.usage.output_tokens,
                "warden.cost.usd": run.usage.cost_usd,
            }
        )
        if run.status not in _OK_STATES:
            span.set_status(Status(StatusCode.ERROR, run.reason or run.status.value))
        span.end()
        # Ended from another thread or out of order: nothing to restore.
        with contextlib.suppress(Exception):
            otel_context.detach(token)  # pyright: ignore[reportArgumentType]

    def on_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """Emit ``chat {model}`` spanning the call's recorded latency.

        The recorded model is the one that answered, so it goes in
        ``gen_ai.response.model`` (the request's model name is not known here).
        """
        end_ns = int(record.at.timestamp() * 1e9)
        span = self.tracer.start_span(
            f"chat {record.model}",
            kind=SpanKind.INTERNAL,
            start_time=end_ns - int(record.latency_s * 1e9),
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.response.model": record.model,
                "gen_ai.provider.name": record.provider or "unknown",
                "gen_ai.usage.input_tokens": record.input_tokens,
                "gen_ai.usage.output_tokens": record.output_tokens,
                "warden.cost.usd": record.cost_usd or 0.0,
            },
        )
        if record.error:
            span.set_status(Status(StatusCode.ERROR, record.error))
        span.end(end_time=end_ns)

    # -- tool spans -----------------------------------------------------------------------

    def __call__(self, ctx: CallContext, proceed: Proceed) -> Any:
        """Wrap the call in ``execute_tool {tool}`` with the decision as attributes."""
        with self.tracer.start_as_current_span(
            f"execute_tool {ctx.call.tool}",
            kind=SpanKind.INTERNAL,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return proceed(ctx)
            except BaseException as exc:
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
                raise
            finally:
                if span.is_recording():
                    attrs: dict[str, Any] = {
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": ctx.call.tool,
                        "gen_ai.tool.call.id": f"{ctx.run.id}:{ctx.call.seq}",
                        "warden.tool.status": (ctx.status.value if ctx.status else "unknown"),
                        "warden.tool.attempts": ctx.attempts,
                    }
                    if ctx.decision is not None:
                        attrs["warden.decision"] = ctx.decision.verdict.value
                        attrs["warden.decision.rule"] = ctx.decision.rule
                    span.set_attributes(attrs)
