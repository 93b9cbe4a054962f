"""The SDK edge: the ``Warden`` façade and settings."""

from warden.sdk.settings import Settings
from warden.sdk.warden import Warden

__all__ = ["Settings", "Warden"]
