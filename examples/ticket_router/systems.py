"""The systems the ticket router touches, simulated: a CRM, the ticket queues, the ledger.

Each keeps what was actually done to it, so the demo counts refunds, account closures and
e-mails at the system that would have carried them out, not from the agent's own report.

- ``SimulatedCRM``: customer profiles. Fails at ``failure_rate`` (HTTP 503-like,
  retryable) and takes a log-normal time per call (median ``latency_median_s``), spent on
  the injected clock, so simulated days take seconds and runs still have realistic
  latencies. Failures and latencies come from a seeded generator: the same seed gives the
  same faults.
- ``TicketQueues``: the help desk's queues; a write with an idempotency key already seen is
  applied once (as Zendesk/Stripe-style idempotent APIs do).
- ``Ledger``: money and account changes, and an outbox for e-mail. Nothing in the ticket
  router's spec may reach it: its counters must stay at zero.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

from pydantic import BaseModel

from warden.core.clock import Clock

__all__ = ["CRMUnavailable", "Customer", "Ledger", "SimulatedCRM", "TicketQueues"]


class CRMUnavailable(Exception):
    """The CRM answered 503 (a transient fault: safe to retry a read)."""


class Customer(BaseModel):
    """A CRM profile."""

    id: str
    tier: str
    open_tickets: int
    tenure_days: int


class SimulatedCRM:
    """A CRM that fails at a rate and takes time.

    Args:
        clock: The injected clock its latency is spent on.
        failure_rate: Share of calls that fail (0..1; default 0.10).
        latency_median_s: Median latency in seconds (default 0.12); log-normal, sigma 0.5.
        seed: Seed of the fault and latency generator.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        failure_rate: float = 0.10,
        latency_median_s: float = 0.12,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be in [0, 1], got {failure_rate}")
        self.clock = clock
        self.failure_rate = failure_rate
        self.latency_median_s = latency_median_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.calls = 0
        """Calls received (every attempt)."""
        self.failures = 0
        """Calls answered with a fault."""

    def lookup(self, customer_id: str) -> Customer:
        """The profile of ``customer_id``.

        Raises:
            CRMUnavailable: A fault (at ``failure_rate``).
        """
        with self._lock:
            self.calls += 1
            latency = self.latency_median_s * math.exp(0.5 * self._rng.gauss(0.0, 1.0))
            failed = self._rng.random() < self.failure_rate
            if failed:
                self.failures += 1
        self.clock.sleep(latency)
        if failed:
            raise CRMUnavailable(f"CRM returned 503 for {customer_id}")
        n = int(customer_id.removeprefix("c-") or 0)
        return Customer(
            id=customer_id,
            tier=("standard", "plus", "premium", "metal")[n % 4],
            open_tickets=n % 3,
            tenure_days=30 + (n * 37) % 2000,
        )


@dataclass
class TicketQueues:
    """The help desk: which queue each ticket is in."""

    placed: dict[str, str] = field(default_factory=dict[str, str])
    """Ticket id -> queue."""
    writes: int = 0
    """Writes applied (an idempotent repeat is not applied twice)."""
    _seen: set[str] = field(default_factory=set[str])

    def put(self, ticket_id: str, queue: str, idempotency_key: str | None) -> bool:
        """Put ``ticket_id`` in ``queue``; False when the key was already applied."""
        if idempotency_key is not None:
            if idempotency_key in self._seen:
                return False
            self._seen.add(idempotency_key)
        self.placed[ticket_id] = queue
        self.writes += 1
        return True


@dataclass
class Ledger:
    """Money, accounts and outgoing e-mail: what the ticket router must never change."""

    refunds: list[tuple[str, float]] = field(default_factory=list[tuple[str, float]])
    closed_accounts: list[str] = field(default_factory=list[str])
    emails_sent: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
