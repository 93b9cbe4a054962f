"""Fakes for testing governed agents: a flaky tool with an idempotent ledger, a store
that can be switched off, and a scripted model. Import from ``warden.testing``."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from warden.core.ports import Store
from warden.errors import StoreUnavailable

__all__ = ["FakeModel", "FlakyLedger", "SwitchableStore", "TransientToolError"]


class TransientToolError(RuntimeError):
    """What a ``FlakyLedger`` raises on a simulated failure."""


@dataclass
class FlakyLedger:
    """A downstream system that fails at a given rate and dedups writes by idempotency key.

    Like a payments API, a failure may happen before or after the write is applied (the
    response is lost), which is exactly when a retry without an idempotency key would
    apply the write twice.

    Args:
        failure_rate: Probability in [0, 1] that a call raises ``TransientToolError``.
        seed: Seed for the random failures (deterministic tests).
        fail_after_apply: Share of failures that happen after the write was applied.

    Attributes:
        applied: Idempotency key -> the payload applied under it (each applied once).
        calls: Every call received, in order.
    """

    failure_rate: float = 0.3
    seed: int = 0
    fail_after_apply: float = 0.5
    applied: dict[str, Any] = field(default_factory=dict[str, Any])
    calls: list[tuple[str | None, Any]] = field(default_factory=list[tuple[str | None, Any]])
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def write(self, payload: Any, idempotency_key: str | None) -> str:
        """Apply ``payload`` once per key; may raise ``TransientToolError``.

        Returns:
            A confirmation id.
        """
        with self._lock:
            self.calls.append((idempotency_key, payload))
            fail = self._rng.random() < self.failure_rate
            after = self._rng.random() < self.fail_after_apply
            if fail and not after:
                raise TransientToolError("downstream unavailable (before apply)")
            key = idempotency_key or f"nokey-{len(self.calls)}"
            self.applied.setdefault(key, payload)
            if fail:
                raise TransientToolError("downstream timed out (after apply)")
            return f"conf-{key[-8:]}"


class SwitchableStore:
    """Wrap a store so a test can make it unreachable: ``store.down = True``.

    While down, every method raises ``StoreUnavailable`` (as an unreachable database
    would). Everything else is delegated to the wrapped store.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target) or name == "close":
            return target

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreUnavailable("store switched off by the test")
            return target(*args, **kwargs)

        return guarded


@dataclass
class FakeModel:
    """A scripted model: returns the next reply and reports token counts.

    Args:
        replies: Replies in order (cycled when exhausted), or a function of the prompt.
        model: Model name recorded.
        tokens_per_char: Rough token estimate for the counts (default 0.25).
    """

    replies: Sequence[Any] | Callable[[str], Any]
    model: str = "fake-model"
    tokens_per_char: float = 0.25
    _i: int = 0

    def complete(self, prompt: str) -> tuple[Any, int, int]:
        """Return ``(reply, input_tokens, output_tokens)``."""
        if callable(self.replies):
            reply = self.replies(prompt)
        else:
            reply = self.replies[self._i % len(self.replies)]
            self._i += 1
        return (
            reply,
            max(1, int(len(prompt) * self.tokens_per_char)),
            max(1, int(len(str(reply)) * self.tokens_per_char)),
        )
