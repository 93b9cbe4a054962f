"""The SDK edge: the ``Warden`` façade and settings.

``Warden`` is imported on first use (PEP 562): the CLI reads ``warden.sdk.settings``
without importing the runtime.
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports
from warden.sdk.settings import Settings

if TYPE_CHECKING:
    from warden.sdk.warden import Warden

__all__ = ["Settings", "Warden"]

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, {"Warden": ".warden"}, globals())
