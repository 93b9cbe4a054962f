"""Fixtures for the interceptor tests: fresh fakes per test (see ``fakes.py``)."""

from __future__ import annotations

import pytest

from tests.runtime.chain.fakes import FakeKillSwitch, FakeRecorder, FakeStore, RecordingProceed


@pytest.fixture
def journal() -> list[str]:
    """What the collaborators and the rest of the chain did, in order."""
    return []


@pytest.fixture
def kill_switch() -> FakeKillSwitch:
    return FakeKillSwitch()


@pytest.fixture
def recorder(journal: list[str]) -> FakeRecorder:
    return FakeRecorder(journal)


@pytest.fixture
def fake_store(journal: list[str]) -> FakeStore:
    return FakeStore(journal)


@pytest.fixture
def proceed(journal: list[str]) -> RecordingProceed:
    return RecordingProceed(journal=journal)
