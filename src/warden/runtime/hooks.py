"""Hooks: how outer layers (telemetry, integrations) observe runs without the runtime
importing them. A hook receives the run at start and end, and each model call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from warden.core.runs import ModelCallRecord

if TYPE_CHECKING:
    from warden.runtime.run import Run

__all__ = ["RunHooks"]


class RunHooks(Protocol):
    """Observer of runs. Exceptions raised by a hook are logged and ignored."""

    def on_run_start(self, run: Run) -> None:
        """The run started (after the kill switch and daily budget checks)."""
        ...

    def on_run_end(self, run: Run) -> None:
        """The run reached its terminal state (``run.status``)."""
        ...

    def on_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """A model call was recorded."""
        ...
