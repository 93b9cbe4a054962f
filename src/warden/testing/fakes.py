"""Fakes for testing governed agents: a flaky tool with an idempotent ledger, a store
that can be switched off, and a scripted model. Import from ``warden.testing``."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warden.core.events import Event
from warden.core.killswitch import KillSwitchState
from warden.core.ports import RuntimeStore
from warden.core.rollout import RolloutState
from warden.core.runs import ApprovalRequest, ApprovalStatus, IdempotencyRecord, SpecVersion
from warden.core.scope import SpecChange
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
    """Wrap a store's runtime port so a test can make it unreachable: ``store.down = True``.

    While down, every method raises ``StoreUnavailable`` (as an unreachable database
    would), except ``close``. Otherwise each call goes to the wrapped store. It implements
    ``core.ports.RuntimeStore``, which is all a governor needs.

    Args:
        inner: The store to wrap (a ``SqlStore`` in most tests).
    """

    def __init__(self, inner: RuntimeStore) -> None:
        self.inner = inner
        self.down = False

    def _up(self) -> RuntimeStore:
        if self.down:
            raise StoreUnavailable("store switched off by the test")
        return self.inner

    def apply(self, events: Sequence[Event]) -> None:
        """See ``RuntimeStore.apply``."""
        self._up().apply(events)

    def save_spec_version(self, version: SpecVersion) -> SpecVersion:
        """See ``RuntimeStore.save_spec_version``."""
        return self._up().save_spec_version(version)

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """See ``RuntimeStore.get_kill_switch``."""
        return self._up().get_kill_switch(agent)

    def watch_kill_switches(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """See ``RuntimeStore.watch_kill_switches``."""
        return self._up().watch_kill_switches(callback)

    def get_rollout(self, agent: str) -> RolloutState | None:
        """See ``RuntimeStore.get_rollout``."""
        return self._up().get_rollout(agent)

    def enroll_version(
        self, version: SpecVersion, *, has_plan: bool, at: datetime
    ) -> RolloutState | None:
        """See ``RuntimeStore.enroll_version``."""
        return self._up().enroll_version(version, has_plan=has_plan, at=at)

    def current_spec_change(self, agent: str) -> SpecChange | None:
        """See ``RuntimeStore.current_spec_change``."""
        return self._up().current_spec_change(agent)

    def find_spec_changes(self, ref: str) -> list[SpecChange]:
        """See ``RuntimeStore.find_spec_changes``."""
        return self._up().find_spec_changes(ref)

    def daily_usage(self, agent: str, since: datetime) -> tuple[int, float]:
        """See ``RuntimeStore.daily_usage``."""
        return self._up().daily_usage(agent, since)

    def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
        """See ``RuntimeStore.mark_interrupted``."""
        return self._up().mark_interrupted(stale_before, at)

    def untrusted_reads(
        self, agent: str, routing_key: str, tools: Sequence[str], since: datetime
    ) -> list[tuple[str, str]]:
        """See ``RuntimeStore.untrusted_reads``."""
        return self._up().untrusted_reads(agent, routing_key, tools, since)

    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        """See ``RuntimeStore.create_approval``."""
        return self._up().create_approval(request)

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """See ``RuntimeStore.get_approval``."""
        return self._up().get_approval(approval_id)

    def decide_approval(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        actor: str,
        reason: str,
        at: datetime,
    ) -> ApprovalRequest:
        """See ``RuntimeStore.decide_approval``."""
        return self._up().decide_approval(
            approval_id, status=status, actor=actor, reason=reason, at=at
        )

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """See ``RuntimeStore.get_idempotency``."""
        return self._up().get_idempotency(key)

    def ping(self) -> None:
        """See ``RuntimeStore.ping``."""
        self._up().ping()

    def close(self) -> None:
        """Close the wrapped store (works while down)."""
        self.inner.close()


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
