"""Telemetry: OpenTelemetry spans with the GenAI semantic conventions."""

from warden.telemetry.tracing import Tracing

__all__ = ["Tracing"]
