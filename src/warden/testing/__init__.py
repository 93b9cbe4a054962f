"""Test helpers for users' own tests: a fake clock, a flaky downstream, a store that can
be switched off, a scripted model.

The fakes are imported on first use (PEP 562).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from warden.core.clock import FakeClock

if TYPE_CHECKING:
    from warden.testing.fakes import FakeModel, FlakyLedger, SwitchableStore, TransientToolError

__all__ = ["FakeClock", "FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"]

_FAKES = frozenset(["FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"])

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error

    def __getattr__(name: str) -> object:
        """Import a fake on first use (PEP 562)."""
        if name not in _FAKES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{__name__}.fakes"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
