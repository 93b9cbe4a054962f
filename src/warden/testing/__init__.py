"""Test helpers for users' own tests: a fake clock, a flaky downstream, a store that can
be switched off, a scripted model.

The fakes are imported on first use (PEP 562).
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports
from warden.core.clock import FakeClock

if TYPE_CHECKING:
    from warden.testing.fakes import FakeModel, FlakyLedger, SwitchableStore, TransientToolError

__all__ = ["FakeClock", "FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"]

_FAKES = frozenset(["FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"])

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(_FAKES, ".fakes"), globals())
