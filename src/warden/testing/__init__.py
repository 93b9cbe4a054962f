"""Test helpers for users' own tests: a fake clock, a flaky downstream, a store that can
be switched off, a scripted model."""

from warden.core.clock import FakeClock
from warden.testing.fakes import FakeModel, FlakyLedger, SwitchableStore, TransientToolError

__all__ = ["FakeClock", "FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"]
