"""Retention: how long raw runs are kept, applied in bounded batches.

Each agent's raw runs (with their tool calls, model calls, approvals, closed handoffs and
idempotency keys) are kept for ``spec.retention.raw_days`` days after they end, else the
server's default (``WARDEN_RETENTION_DAYS``), else forever. The metrics' rollups, incidents,
outcomes and the audit chain stay: charts, gates and kill criteria over older windows still
read the same, and ``warden audit verify`` counts pruned runs apart (``runs_pruned``).
``warden db prune`` applies it on demand; ``warden monitor`` a batch per agent each pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from warden.control.fleet import latest_spec
from warden.core.clock import Clock
from warden.core.ports import Store

__all__ = ["BATCH", "PruneResult", "prune"]

BATCH = 5_000
"""Runs removed per transaction: long enough to be efficient, short enough that runs being
recorded meanwhile wait well under a second."""


class PruneResult(BaseModel):
    """What a prune did for one agent."""

    model_config = ConfigDict(frozen=True)

    agent: str
    days: float
    """The retention applied, in days."""
    ended_before: datetime
    runs: int
    """Runs removed."""
    done: bool
    """Nothing older is left (False when ``max_batches`` stopped it first)."""


def prune(
    store: Store,
    clock: Clock,
    *,
    agents: list[str] | None = None,
    older_than_days: float | None = None,
    default_days: float | None = None,
    batch: int | None = None,
    max_batches: int | None = None,
    actor: str = "warden",
) -> list[PruneResult]:
    """Remove raw runs past their retention, agent by agent.

    Args:
        store: The store.
        clock: Now.
        agents: Only these (default: every agent the store has seen).
        older_than_days: Use this retention for every agent instead of its spec's.
        default_days: Retention of agents whose spec sets none (None: keep theirs).
        batch: Runs per transaction (default ``BATCH``).
        max_batches: Stop each agent after this many batches (the monitor's bound);
            None: until nothing is left.
        actor: Who prunes, for the audit log.

    Returns:
        One result per agent with a retention, in name order.

    Raises:
        ValueError: A retention below one hour, or ``batch`` below 1.
    """
    size = BATCH if batch is None else batch
    results: list[PruneResult] = []
    for agent in sorted(agents if agents is not None else store.seen_agents()):
        days = older_than_days
        if days is None:
            found = latest_spec(store, agent)
            spec_days = None
            if found is not None and found[0].spec.retention is not None:
                spec_days = found[0].spec.retention.raw_days
            days = spec_days if spec_days is not None else default_days
        if days is None:
            continue
        if days < 1 / 24:
            raise ValueError(f"a retention of {days} days is under an hour: refused")
        cutoff = clock.now() - timedelta(days=days)
        removed, rounds, done = 0, 0, False
        while max_batches is None or rounds < max_batches:
            n = store.prune_runs(agent, cutoff, limit=size, actor=actor, at=clock.now())
            removed += n
            rounds += 1
            if n < size:
                done = True
                break
        results.append(
            PruneResult(agent=agent, days=days, ended_before=cutoff, runs=removed, done=done)
        )
    return results
