"""Evaluate the readiness review and the gate of an agent's current stage from the store.

The checks themselves are pure (``core.readiness``, ``core.gates``); this module gathers
what they need: agreement of the version being rolled out since its gate started, canary
runs and SLOs, kill-criterion trips, the channels a test page reached, the last drill,
whether the runbook exists, and the newest eval result of the version
(``Store.latest_eval_result``); with none the readiness item fails (no data is not a pass).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from warden.core.audit import MODE_OVERRIDE
from warden.core.clock import Clock
from warden.core.gates import GateResult, canary_gate, shadow_gate
from warden.core.paging import delivery_label
from warden.core.ports import Store
from warden.core.readiness import OVERRIDE_LOOKBACK, ReadinessFacts, ReadinessReport, review
from warden.core.rollout import RolloutState, Stage
from warden.core.runs import RunMode
from warden.core.slo import evaluate_slo
from warden.core.spec import AgentSpec
from warden.errors import GateNotPassed, NotFoundError

__all__ = ["evaluate_gate", "gate_check", "readiness", "readiness_facts", "spec_of"]

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_OVERRIDES_READ = 1_000
"""Newest rollout-override entries the readiness review reads (it needs to know "any")."""


def spec_of(store: Store, agent: str, spec_hash: str) -> AgentSpec:
    """The stored spec version of ``agent`` with ``spec_hash``.

    Raises:
        NotFoundError: That version was never stored.
    """
    version = store.get_spec_version(agent, spec_hash)
    if version is None:
        raise NotFoundError(f"spec version {spec_hash[:12]} of {agent} is not in the store")
    return AgentSpec.model_validate(version.spec)


def readiness_facts(
    store: Store, spec: AgentSpec, root: Path | None = None, *, now: datetime | None = None
) -> ReadinessFacts:
    """What the store (and the working directory, for a runbook path) knows.

    Args:
        store: The store.
        spec: The agent spec.
        root: Directory a relative runbook path is resolved against (default: cwd).
        now: The review's time (default: the wall clock), for recent rollout overrides.
    """
    runbook = spec.metadata.runbook
    found = True if _URL.match(runbook) else ((root or Path.cwd()) / runbook).exists()
    tests = [p for p in store.list_pages(spec.name) if p.test and p.delivered]
    drills = [d.ended_at for d in store.list_drills(spec.name) if d.passed]
    spec_hash = spec.content_hash()
    result = store.latest_eval_result(spec.name, spec_hash)
    since = (now or datetime.now(UTC)) - OVERRIDE_LOOKBACK
    # From the audit log's run.mode_override entries (rare; read on (agent, action, seq)),
    # not by scanning a week of the agent's runs.
    overrides = store.list_audit(
        agent=spec.name, actions=[MODE_OVERRIDE], newest=True, limit=_OVERRIDES_READ
    )
    forced = [
        e
        for e in overrides
        if e.at >= since and json.loads(e.after or "{}").get("spec_hash") == spec_hash
    ]
    return ReadinessFacts(
        runbook_found=found,
        test_page_delivered_at=max(p.at for p in tests) if tests else None,
        test_paged_channels=sorted({delivery_label(p) for p in tests}),
        last_drill_at=max(drills) if drills else None,
        eval_cases=result.cases if result is not None else None,
        eval_passed=result.passed if result is not None else None,
        rollout_overrides=len(forced),
    )


def readiness(
    store: Store, spec: AgentSpec, clock: Clock, *, facts: ReadinessFacts | None = None
) -> ReadinessReport:
    """The readiness review of ``spec`` now (``facts`` gathered from the store if omitted)."""
    now = clock.now()
    return review(spec, facts if facts is not None else readiness_facts(store, spec, now=now), now)


def _days(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds() / 86400)


def evaluate_gate(
    store: Store,
    spec: AgentSpec,
    state: RolloutState,
    clock: Clock,
    *,
    facts: ReadinessFacts | None = None,
) -> GateResult | None:
    """The gate out of ``state``'s stage (None for ``live`` and ``rolled_back``: no gate).

    Args:
        store: The store.
        spec: The spec version being rolled out (``state.spec_hash``).
        state: The rollout.
        clock: Now.
        facts: Readiness facts (default: gathered from the store).
    """
    plan = spec.spec.rollout
    now = clock.now()
    if plan is None or state.stage not in (Stage.SHADOW, Stage.CANARY):
        return None
    since = state.stage_since
    if state.stage is Stage.SHADOW:
        rates = store.agreement(spec.name, spec_hash=state.spec_hash, since=since)
        return shadow_gate(
            plan.shadow,
            rates[0] if rates else None,
            _days(since, now),
            readiness(store, spec, clock, facts=facts),
            now,
        )
    samples = store.run_totals(spec.name, since=since, spec_hash=state.spec_hash, mode=RunMode.LIVE)
    finished = samples.finished
    trips = store.list_incidents(spec.name, since=since)
    clean_since = max([since, *(i.opened_at for i in trips)])
    slos = [evaluate_slo(slo, samples, plan.canary.min_runs) for slo in spec.spec.slos]
    return canary_gate(plan.canary, finished, _days(clean_since, now), len(trips), slos, now)


def gate_check(
    store: Store, clock: Clock, *, facts: ReadinessFacts | None = None
) -> Callable[[RolloutState, Stage], None]:
    """A ``check`` for ``change_stage``: advancing needs the current stage's gate to pass.

    Rolling back, and starting again in shadow after a rollback, need no gate.
    """

    def check(state: RolloutState, target: Stage) -> None:
        if state.stage not in (Stage.SHADOW, Stage.CANARY):
            return
        spec = spec_of(store, state.agent, state.spec_hash)
        result = evaluate_gate(store, spec, state, clock, facts=facts)
        if result is not None and not result.passed:
            held = "holds" if result.status.value == "inconclusive" else "fails"
            raise GateNotPassed(
                f"the {state.stage.value} gate {held}, so {state.agent} stays in "
                f"{state.stage.value} (not {target.value}): {result.summary()}",
                result.status.value,
            )

    return check
