"""Evaluate an agent's kill criteria and act on trips: incident, action, page.

``check_kill_criteria`` evaluates each criterion over the runs of the spec version in use
that ended within its window (``core.killcriteria``). A trip opens an incident (one per
criterion and version while unresolved: ``agent:criterion:version``); when the incident is
new and the criterion is ``enforce``, the action is applied (``pause``: the kill switch;
``rollback``: the rollout is rolled back) and the owner is paged. ``advisory`` criteria
record the incident only.

The governor runs the check in a background thread after runs end (at most once per
``min_interval_s``); ``warden monitor`` runs it in a loop for the server side.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from warden.control.paging import page_incident
from warden.control.rollout import change_stage
from warden.core.clock import Clock
from warden.core.decisions import RuleMode
from warden.core.incidents import Incident
from warden.core.killcriteria import CriterionResult, CriterionStatus, evaluate_criterion
from warden.core.metrics import RunTotals
from warden.core.paging import Pager
from warden.core.ports import Store
from warden.core.rollout import RolloutAction, Stage
from warden.core.spec import AgentSpec
from warden.errors import ControlError, WardenError

__all__ = ["CriteriaWatch", "check_kill_criteria"]

log = logging.getLogger("warden.killcriteria")

_DONE = {
    "pause": "paused: the kill switch is engaged",
    "rollback": "rolled back: every run takes the fallback",
    "page": "paged the owner",
}


def _incident(spec: AgentSpec, spec_hash: str, result: CriterionResult, clock: Clock) -> Incident:
    c, m = result.criterion, result.measurement
    version = spec.metadata.version or spec_hash[:12]
    enforce = c.mode is RuleMode.ENFORCE
    applied = _DONE[c.action] if enforce else f"advisory: would have {c.action}d; nothing applied"
    return Incident(
        id=f"inc_{uuid.uuid4().hex[:16]}",
        agent=spec.name,
        criterion=result.key,
        metric=c.metric,
        threshold=c.threshold,
        value=m.value if m.value is not None else 0.0,
        samples=m.samples,
        window_s=c.window_s,
        action=c.action,
        mode=c.mode,
        applied=applied,
        spec_hash=spec_hash,
        spec_version=spec.metadata.version,
        dedup_key=f"{spec.name}:{result.key}:{version}"[:255],
        opened_at=clock.now(),
        summary=f"{spec.name} {version}: kill criterion tripped: {result.describe()}. {applied}.",
    )


def _apply(store: Store, incident: Incident, clock: Clock) -> None:
    reason = f"kill criterion {incident.criterion} tripped (incident {incident.id})"
    if incident.action == "pause":
        store.set_kill_switch(
            incident.agent, engaged=True, reason=reason, actor="warden", at=clock.now()
        )
    elif incident.action == "rollback":
        state = store.get_rollout(incident.agent)
        if state is not None and state.stage is not Stage.ROLLED_BACK:
            try:
                change_stage(
                    store,
                    incident.agent,
                    RolloutAction.ROLLBACK,
                    actor="warden",
                    reason=reason,
                    clock=clock,
                )
            except ControlError as exc:  # someone moved it first: the next check sees it
                log.warning("rollback for %s not applied: %s", incident.id, exc)


def check_kill_criteria(
    store: Store, spec: AgentSpec, spec_hash: str, clock: Clock, pager: Pager | None
) -> list[Incident]:
    """Evaluate every kill criterion of ``spec`` now and act on new trips.

    Returns:
        The incidents opened by this check.
    """
    opened: list[Incident] = []
    now = clock.now()
    if not spec.spec.kill_criteria:
        return opened
    windows: dict[float, RunTotals] = {}  # criteria sharing a window share one read
    for c in spec.spec.kill_criteria:
        since = now - timedelta(seconds=c.window_s)
        if c.window_s not in windows:  # from the rollups: cost by buckets, not by runs
            windows[c.window_s] = store.run_totals(spec.name, since=since, spec_hash=spec_hash)
        samples = windows[c.window_s]
        agreement = None
        if c.metric == "shadow_agreement":
            rates = store.agreement(spec.name, spec_hash=spec_hash, since=since)
            agreement = rates[0] if rates else None
        result = evaluate_criterion(c, samples, agreement)
        if result.status is not CriterionStatus.TRIPPED:
            continue
        incident, new = store.open_incident(_incident(spec, spec_hash, result, clock))
        if not new:
            continue
        opened.append(incident)
        log.warning("%s", incident.summary)
        if c.mode is RuleMode.ENFORCE:
            _apply(store, incident, clock)
            if pager is not None:
                page_incident(store, spec, incident, pager, clock)
    return opened


class CriteriaWatch:
    """Runs ``check`` in a daemon thread when poked, at most once per ``min_interval_s``.

    Args:
        check: The evaluation (flush records first, then ``check_kill_criteria``).
        min_interval_s: Real seconds between evaluations (default 1).
    """

    def __init__(self, check: Callable[[], object], *, min_interval_s: float = 1.0) -> None:
        self.check = check
        self.min_interval_s = min_interval_s
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """A run ended: evaluate soon."""
        self._poked.set()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="warden-kill-criteria", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._poked.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poked.wait()
            if self._stop.is_set():
                return
            self._poked.clear()
            try:
                self.check()
            except WardenError as exc:
                log.warning("kill criteria not evaluated: %s", exc)
            except Exception:
                log.exception("kill criteria evaluation failed")
            self._stop.wait(self.min_interval_s)
