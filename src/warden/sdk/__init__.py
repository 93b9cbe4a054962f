"""The SDK edge: the ``Warden`` façade and settings.

``Warden`` is imported on first use (PEP 562): the CLI reads ``warden.sdk.settings``
without importing the runtime.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from warden.sdk.settings import Settings

if TYPE_CHECKING:
    from warden.sdk.warden import Warden

__all__ = ["Settings", "Warden"]

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error

    def __getattr__(name: str) -> object:
        """Import ``Warden`` on first use (PEP 562)."""
        if name != "Warden":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = import_module(f"{__name__}.warden").Warden
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
