"""Telemetry: OpenTelemetry spans with the GenAI semantic conventions.

``Tracing`` is imported on first use (PEP 562), so importing another telemetry module does
not import OpenTelemetry's tracing.
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports

if TYPE_CHECKING:
    from warden.telemetry.tracing import Tracing

__all__ = ["Tracing"]

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, {"Tracing": ".tracing"}, globals())
