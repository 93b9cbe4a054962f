"""Taint that carries across runs: a run starts having "read untrusted content" when an
earlier run of the same routing key (the same ticket, customer or thread) read it.

An attacker's text read by Monday's run of ticket 42 (a web page, an email) can steer
Tuesday's run of ticket 42 through what the agent stored or summarised in between, so the
``untrusted_egress`` rule must still apply there. The window is
``spec.policy.untrusted_carry_hours`` (24 by default; 0 turns carrying off).

The sources are the runs of the key that called an ``untrusted_output`` tool that ran
(succeeded or failed) within the window: those this process ended (remembered here, so the
next run sees them before the recorder's batch lands) and those in the store (other
processes). When the store cannot be read the run starts tainted: fail closed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from warden.core.clock import Clock
from warden.core.ports import RuntimeStore
from warden.core.spec import AgentSpec
from warden.errors import StoreUnavailable

__all__ = ["CarriedTaint"]

log = logging.getLogger(__name__)

_REMEMBERED_KEYS = 10_000
"""Routing keys this process remembers (least recently tainted forgotten first)."""


class CarriedTaint:
    """The untrusted content earlier runs of a routing key read, for a new run of it.

    Args:
        spec: The agent spec (its ``untrusted_output`` tools and carry window).
        store: Where other processes' runs are.
        clock: Time source.
    """

    def __init__(self, spec: AgentSpec, store: RuntimeStore, clock: Clock) -> None:
        self.agent = spec.name
        self.tools = sorted(n for n, t in spec.spec.tools.items() if t.untrusted_output)
        self.window = timedelta(hours=spec.spec.policy.untrusted_carry_hours)
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, tuple[datetime, list[str]]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """False when the agent has no untrusted tool or carrying is off."""
        return bool(self.tools) and self.window > timedelta(0)

    def remember(self, routing_key: str | None, run_id: str, sources: list[str]) -> None:
        """Note that run ``run_id`` of ``routing_key`` read untrusted content from ``sources``."""
        if not self.enabled or routing_key is None or not sources:
            return
        label = [f"{s} (in run {run_id})" for s in dict.fromkeys(sources)]
        with self._lock:
            self._recent[routing_key] = (self.clock.now(), label)
            self._recent.move_to_end(routing_key)
            while len(self._recent) > _REMEMBERED_KEYS:
                self._recent.popitem(last=False)

    def sources(self, routing_key: str | None) -> list[str]:
        """What a new run of ``routing_key`` starts having read (empty: nothing untrusted)."""
        if not self.enabled or routing_key is None:
            return []
        since = self.clock.now() - self.window
        with self._lock:
            here = self._recent.get(routing_key)
        found = list(here[1]) if here is not None and here[0] >= since else []
        try:
            reads = self.store.untrusted_reads(self.agent, routing_key, self.tools, since)
        except StoreUnavailable as exc:
            log.warning("taint of %s unknown (%s): the run starts tainted", routing_key, exc)
            return [*found, "an earlier run of this routing key (the store could not be read)"]
        found += [f"{tool} (in run {run_id})" for run_id, tool in reads]
        return list(dict.fromkeys(found))
