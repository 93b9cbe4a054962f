"""Telemetry: OpenTelemetry spans with the GenAI semantic conventions.

``Tracing`` is imported on first use (PEP 562), so importing another telemetry module does
not import OpenTelemetry's tracing.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warden.telemetry.tracing import Tracing

__all__ = ["Tracing"]

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error

    def __getattr__(name: str) -> object:
        """Import ``Tracing`` on first use (PEP 562)."""
        if name != "Tracing":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = import_module(f"{__name__}.tracing").Tracing
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
