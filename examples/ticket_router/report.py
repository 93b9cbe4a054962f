"""The demo's report: every number read back from the store and the downstream systems.

Nothing is counted while the demo runs: runs, tool calls, decisions, outcomes, incidents,
rollout transitions and handoffs come from the store; refunds, closures and e-mails from
the ledger they would have changed; pages from the inbox that received them.

Definitions (as ``warden.core.metrics``): *finished* runs are runs the agent did (``live``
or ``shadow``) that ended other than ``killed``; escalation and resolution rates are over
finished runs; latency is the run's duration on the injected clock (CRM latency, retry
back-off and model time are spent on it); cost per completed workflow is model cost over
resolved runs (the offline classifier bills nothing).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from ticket_router.data import ATTRIBUTION, Ticket
from ticket_router.inbox import LocalInbox
from ticket_router.model import IntentClassifier
from ticket_router.systems import Ledger
from warden.core.evals import EvalResult
from warden.core.metrics import percentile
from warden.core.runs import RunFilter, RunMode, RunRecord, RunStatus, ToolCallStatus
from warden.core.spec import AgentSpec
from warden.store import SqlStore

__all__ = ["DemoReport", "RedTeamResult", "build_report"]

_MAX_RUNS = 10_000


@dataclass(frozen=True)
class RedTeamResult:
    """What happened to one red-team ticket."""

    ticket: str
    attack: str
    run_id: str
    mode: str
    status: str
    denied: list[str]
    """Tools the policy denied in this run."""

    @property
    def stopped(self) -> bool:
        """Denied, or handed to people (escalated, or the kill switch's handoff)."""
        return bool(self.denied) or self.status in ("escalated", "killed")


@dataclass(frozen=True)
class DemoReport:
    """The demo's numbers; ``as_json()`` has the keys ``warden demo --json`` prints."""

    runs: int
    states: dict[str, int]
    modes: dict[str, int]
    shadow_agreement: float | None
    shadow_agreement_ci95: tuple[float, float]
    shadow_compared: int
    resolution_rate: float | None
    escalation_rate: float | None
    policy_denials: dict[str, int]
    refunds_executed: int
    accounts_closed: int
    emails_sent: int
    retries: int
    tool_failures: int
    budget_stops: int
    killed_routed_to_humans: int
    routed_to_humans: int
    cost_per_completed_usd: float | None
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    redteam: list[RedTeamResult]
    stages: list[tuple[float, str, str, str]]
    """``(day, from, to, actor)`` of each rollout transition."""
    incidents: list[dict[str, Any]]
    pages: int
    eval: dict[str, Any]
    timeline: list[tuple[float, str]]
    database_url: str
    model: dict[str, Any]
    attribution: str = ATTRIBUTION
    handoff_triggers: dict[str, int] = field(default_factory=dict[str, int])

    def as_json(self) -> dict[str, Any]:
        """Everything, JSON-ready (the keys the main-job issue lists come first)."""
        data = asdict(self)
        data["shadow_agreement_ci95"] = list(self.shadow_agreement_ci95)
        data["redteam"] = [asdict(r) | {"stopped": r.stopped} for r in self.redteam]
        return data


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def build_report(
    store: SqlStore,
    spec: AgentSpec,
    ledger: Ledger,
    inbox: LocalInbox,
    *,
    redteam: list[Ticket],
    eval_result: EvalResult,
    timeline: list[tuple[float, str]],
    database_url: str,
    model: IntentClassifier,
) -> DemoReport:
    """Read the demo's outcome back from ``store``, the ``ledger`` (what was really done to
    money, accounts and e-mail) and the ``inbox`` (pages).

    Raises:
        StoreUnavailable: The store cannot be read.
    """
    agent = spec.name
    runs = store.list_runs(RunFilter(agent=agent, limit=_MAX_RUNS))
    calls = store.list_tool_calls(agent=agent, limit=_MAX_RUNS * 8)
    states = Counter(r.status.value for r in runs)
    modes = Counter(r.mode.value for r in runs)
    finished = [
        r
        for r in runs
        if r.status.is_terminal
        and r.status is not RunStatus.KILLED
        and r.mode is not RunMode.FALLBACK
    ]
    resolved = [r for r in finished if r.status is RunStatus.RESOLVED]
    latencies = sorted(r.latency_s for r in finished if r.latency_s is not None)
    denials = Counter(
        c.decision.rule
        for c in calls
        if c.status is ToolCallStatus.DENIED and c.decision is not None
    )
    rates = store.agreement(agent, spec_hash=spec.content_hash())
    rate = rates[0] if rates else None
    handoffs = [h for h in store.list_handoffs() if h.agent == agent]
    by_run = {r.id: r for r in runs}
    denied_by_run: dict[str, list[str]] = {}
    for c in calls:
        if c.status is ToolCallStatus.DENIED:
            denied_by_run.setdefault(c.run_id, []).append(c.tool)
    inputs: dict[str, RunRecord] = {}
    for r in runs:
        raw: Any = r.input
        if isinstance(raw, dict):
            inputs[str(cast(dict[str, Any], raw).get("ticket_id"))] = r
    red: list[RedTeamResult] = []
    for t in redteam:
        r = inputs.get(t.id)
        red.append(
            RedTeamResult(
                ticket=t.id,
                attack=t.attack or "",
                run_id=r.id if r else "",
                mode=r.mode.value if r else "",
                status=r.status.value if r else "missing",
                denied=sorted(denied_by_run.get(r.id, [])) if r else [],
            )
        )
    start = min((r.started_at for r in runs), default=None)
    transitions = store.list_rollout_transitions(agent)
    day0 = min([*(t.at for t in transitions), *([start] if start else [])], default=None)

    def day(at: Any) -> float:
        return round((at - day0).total_seconds() / 86400, 2) if day0 is not None else 0.0

    cost = sum(r.cost_usd for r in finished)
    return DemoReport(
        runs=len(runs),
        states=dict(sorted(states.items())),
        modes=dict(sorted(modes.items())),
        shadow_agreement=rate.rate if rate else None,
        shadow_agreement_ci95=(rate.low, rate.high) if rate else (0.0, 1.0),
        shadow_compared=rate.compared if rate else 0,
        resolution_rate=_ratio(len(resolved), len(finished)),
        escalation_rate=_ratio(
            sum(r.status is RunStatus.ESCALATED for r in finished), len(finished)
        ),
        policy_denials=dict(denials.most_common()),
        refunds_executed=len(ledger.refunds),
        accounts_closed=len(ledger.closed_accounts),
        emails_sent=len(ledger.emails_sent),
        retries=sum(max(0, c.attempts - 1) for c in calls),
        tool_failures=sum(c.status is ToolCallStatus.FAILED for c in calls),
        budget_stops=sum((r.error_code or "").startswith("budget") for r in runs),
        killed_routed_to_humans=sum(
            h.trigger == "kill_switch" and h.run_id in by_run for h in handoffs
        ),
        routed_to_humans=len({h.run_id for h in handoffs}),
        cost_per_completed_usd=cost / len(resolved) if resolved else None,
        latency_ms_p50=round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        latency_ms_p95=round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        redteam=red,
        stages=[
            (day(t.at), t.from_stage.value if t.from_stage else "-", t.to_stage.value, t.actor)
            for t in transitions
        ],
        incidents=[
            {
                "id": i.id,
                "criterion": i.criterion,
                "value": round(i.value, 4),
                "samples": i.samples,
                "mode": i.mode.value,
                "applied": i.applied,
                "status": i.status.value,
                "day": day(i.opened_at),
            }
            for i in store.list_incidents(agent)
        ],
        pages=len(inbox.messages),
        eval=eval_result.model_dump(
            mode="json",
            include={"set_name", "cases", "pass_rate", "floor", "redteam_executed", "passed"},
        ),
        timeline=timeline,
        database_url=database_url,
        model={"name": "banking77-tfidf-logreg", "trained_on": model.trained_on, "key": model.key},
        handoff_triggers=dict(Counter(h.trigger for h in handoffs).most_common()),
    )
