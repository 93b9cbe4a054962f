"""Scope changes: classify the difference between two spec versions.

A change that lets the agent do more is an *expansion*: a new tool, wider access
(``blocked < read < approval < write``), a looser argument constraint (more enum values, a
wider range, a longer maximum, more allowed globs, a removed or changed pattern, an
argument no longer required), a removed approval condition or rate limit, a higher or
removed budget, a policy rule moved to ``advisory``, a removed or loosened kill criterion,
a lower confidence threshold, more canary traffic, a looser gate, a shorter stability
window, a removed rollout plan. Its opposite is a *contraction*. Everything else (owner,
runbook, descriptions, the scope's wording, timeouts, SLOs) is *neutral*.

When a direction cannot be decided (a changed regular expression or CEL condition), the
change counts as an expansion: a person looks at it. An expansion waits for an owner other
than the person who applied it; contractions and neutral changes apply at once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warden.core.decisions import RULES, RuleMode
from warden.core.metrics import HIGHER_IS_BETTER
from warden.core.spec import Access, AgentSpec, ArgumentConstraint, FlowAction, ToolSpec

__all__ = [
    "ChangeKind",
    "ChangeStatus",
    "DiffItem",
    "SpecChange",
    "classify",
    "overall",
]

_ACCESS_RANK = {Access.BLOCKED: 0, Access.READ: 1, Access.APPROVAL: 2, Access.WRITE: 3}


class ChangeKind(StrEnum):
    """Direction of a change."""

    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    NEUTRAL = "neutral"
    INITIAL = "initial"
    """The first version applied for an agent."""


class ChangeStatus(StrEnum):
    """Where an applied spec version is."""

    APPLIED = "applied"
    PENDING = "pending"
    """An expansion waiting for another owner's approval."""
    SUPERSEDED = "superseded"
    """A pending version replaced by a later apply before it was approved."""


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class DiffItem(_Model):
    """One classified difference."""

    path: str
    """Dotted field path, e.g. ``spec.tools.route_ticket.access``."""
    kind: ChangeKind
    detail: str
    """Before and after, in plain words."""


class SpecChange(_Model):
    """An apply of a spec version and its approval."""

    id: str
    agent: str
    from_hash: str | None
    """The version in force when it was applied (None for the first)."""
    to_hash: str
    version: str
    """The new version's ``metadata.version``."""
    kind: ChangeKind
    items: list[DiffItem] = Field(default_factory=list[DiffItem])
    status: ChangeStatus
    applied_by: str
    """The label of who applied it (``WARDEN_ACTOR`` or the token's name)."""
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    reason: str = ""
    override_stability: bool = False
    applied_principal: str | None = None
    """Who applied it (``Principal.key``); None on changes stored before principals."""
    approved_principal: str | None = None
    """Who approved it (``Principal.key``)."""

    @property
    def applier(self) -> str:
        """What the two-person rule compares: the applying principal, else the label."""
        return self.applied_principal or self.applied_by


def overall(items: list[DiffItem]) -> ChangeKind:
    """Expansion if any item widens, else contraction if any narrows, else neutral."""
    kinds = {i.kind for i in items}
    if ChangeKind.EXPANSION in kinds:
        return ChangeKind.EXPANSION
    return ChangeKind.CONTRACTION if ChangeKind.CONTRACTION in kinds else ChangeKind.NEUTRAL


def _present(value: object, word: str) -> str | None:
    return word if value is not None else None


class _Diff:
    def __init__(self) -> None:
        self.items: list[DiffItem] = []

    def add(self, path: str, kind: ChangeKind, before: Any, after: Any) -> None:
        self.items.append(DiffItem(path=path, kind=kind, detail=f"{before!r} -> {after!r}"))

    def limit(
        self, path: str, old: float | None, new: float | None, *, wider_when_higher: bool = True
    ) -> None:
        """A limit where None means unlimited."""
        if old == new:
            return
        if new is None:
            wider = True
        elif old is None:
            wider = False
        else:
            wider = (new > old) == wider_when_higher
        self.add(path, ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION, old, new)

    def floor(self, path: str, old: float | None, new: float | None) -> None:
        """A lower bound where None means unbounded: lower is wider."""
        if old == new:
            return
        wider = new is None or (old is not None and new < old)
        self.add(path, ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION, old, new)

    def flag(self, path: str, old: bool, new: bool, *, wider_when: bool) -> None:
        if old != new:
            kind = ChangeKind.EXPANSION if new is wider_when else ChangeKind.CONTRACTION
            self.add(path, kind, old, new)

    def neutral(self, path: str, old: Any, new: Any) -> None:
        if old != new:
            self.add(path, ChangeKind.NEUTRAL, old, new)

    def opaque(self, path: str, old: Any, new: Any) -> None:
        """A restriction: removing it widens, adding it narrows, changing it is unknown."""
        if old == new:
            return
        if new is None:
            self.add(path, ChangeKind.EXPANSION, old, new)
        elif old is None:
            self.add(path, ChangeKind.CONTRACTION, old, new)
        else:
            self.add(path, ChangeKind.EXPANSION, old, f"{new} (direction unknown)")


def classify(old: AgentSpec, new: AgentSpec) -> list[DiffItem]:
    """Every difference from ``old`` to ``new``, classified."""
    d = _Diff()
    for f in ("owner", "backup_owner", "runbook", "description", "version"):
        d.neutral(f"metadata.{f}", getattr(old.metadata, f), getattr(new.metadata, f))
    o, n = old.spec, new.spec
    d.neutral("spec.scope", o.scope, n.scope)
    for item in sorted(set(o.out_of_scope) - set(n.out_of_scope)):
        d.add("spec.out_of_scope", ChangeKind.EXPANSION, item, None)
    for item in sorted(set(n.out_of_scope) - set(o.out_of_scope)):
        d.add("spec.out_of_scope", ChangeKind.CONTRACTION, None, item)
    for name in sorted(set(o.tools) | set(n.tools)):
        _tool(d, f"spec.tools.{name}", o.tools.get(name), n.tools.get(name))
    for part, ob, nb in (
        ("per_run", o.budgets.per_run.model_dump(), n.budgets.per_run.model_dump()),
        ("per_day", o.budgets.per_day.model_dump(), n.budgets.per_day.model_dump()),
    ):
        for f in ob:
            d.limit(f"spec.budgets.{part}.{f}", ob[f], nb[f])
    _policy(d, old, new)
    _escalation(d, old, new)
    _kill_criteria(d, old, new)
    _rollout(d, old, new)
    d.neutral("spec.slos", [s.model_dump() for s in o.slos], [s.model_dump() for s in n.slos])
    d.neutral("spec.review", o.review, n.review)
    d.neutral("spec.oncall", o.oncall, n.oncall)
    return d.items


def _tool(d: _Diff, path: str, old: ToolSpec | None, new: ToolSpec | None) -> None:
    if old is None and new is not None:
        kind = ChangeKind.NEUTRAL if new.access is Access.BLOCKED else ChangeKind.EXPANSION
        d.add(path, kind, None, f"new tool ({new.access.value})")
        return
    if new is None:
        if old is not None:
            d.add(path, ChangeKind.CONTRACTION, f"tool ({old.access.value})", None)
        return
    assert old is not None
    if old.access is not new.access:
        wider = _ACCESS_RANK[new.access] > _ACCESS_RANK[old.access]
        d.add(
            f"{path}.access",
            ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION,
            old.access.value,
            new.access.value,
        )
    d.opaque(f"{path}.approval_when", old.approval_when, new.approval_when)
    d.flag(f"{path}.egress", old.egress, new.egress, wider_when=True)
    d.flag(f"{path}.untrusted_output", old.untrusted_output, new.untrusted_output, wider_when=False)
    for arg in sorted(set(old.provenance) - set(new.provenance)):
        d.add(f"{path}.provenance", ChangeKind.EXPANSION, arg, None)
    for arg in sorted(set(new.provenance) - set(old.provenance)):
        d.add(f"{path}.provenance", ChangeKind.CONTRACTION, None, arg)
    orl, nrl = old.rate_limit, new.rate_limit
    for f in ("per_run", "per_minute"):
        d.limit(
            f"{path}.rate_limit.{f}",
            getattr(orl, f) if orl else None,
            getattr(nrl, f) if nrl else None,
        )
    for f in ("description", "idempotent", "timeout_s", "max_attempts"):
        d.neutral(f"{path}.{f}", getattr(old, f), getattr(new, f))
    for arg in sorted(set(old.arguments) | set(new.arguments)):
        _argument(d, f"{path}.arguments.{arg}", old.arguments.get(arg), new.arguments.get(arg))


def _argument(
    d: _Diff, path: str, old: ArgumentConstraint | None, new: ArgumentConstraint | None
) -> None:
    if old is None or new is None:
        if old != new:
            d.add(
                path,
                ChangeKind.EXPANSION if new is None else ChangeKind.CONTRACTION,
                _present(old, "constrained"),
                _present(new, "constrained"),
            )
        return
    if old.enum != new.enum:
        if new.enum is None or (old.enum is not None and not set(new.enum) <= set(old.enum)):
            d.add(f"{path}.enum", ChangeKind.EXPANSION, old.enum, new.enum)
        else:
            d.add(f"{path}.enum", ChangeKind.CONTRACTION, old.enum, new.enum)
    if old.allow != new.allow:
        if new.allow is None or (old.allow is not None and not set(new.allow) <= set(old.allow)):
            d.add(f"{path}.allow", ChangeKind.EXPANSION, old.allow, new.allow)
        else:
            d.add(f"{path}.allow", ChangeKind.CONTRACTION, old.allow, new.allow)
    d.opaque(f"{path}.pattern", old.pattern, new.pattern)
    d.floor(f"{path}.min", old.min, new.min)
    d.limit(f"{path}.max", old.max, new.max)
    d.limit(f"{path}.max_length", old.max_length, new.max_length)
    d.flag(f"{path}.required", old.required, new.required, wider_when=False)


def _policy(d: _Diff, old: AgentSpec, new: AgentSpec) -> None:
    o, n = old.spec.policy, new.spec.policy
    for rule in sorted(RULES):
        om, nm = o.mode_of(rule), n.mode_of(rule)
        if om is not nm:
            wider = nm is RuleMode.ADVISORY
            d.add(
                f"spec.policy.rules.{rule}",
                ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION,
                om.value,
                nm.value,
            )
    for f in ("untrusted_egress", "provenance"):
        ov, nv = getattr(o, f), getattr(n, f)
        if ov is not nv:
            wider = nv is FlowAction.REQUIRE_APPROVAL
            d.add(
                f"spec.policy.{f}",
                ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION,
                ov.value,
                nv.value,
            )
    d.limit(
        "spec.policy.max_write_calls_per_run", o.max_write_calls_per_run, n.max_write_calls_per_run
    )
    d.limit("spec.policy.max_repeated_calls", o.max_repeated_calls, n.max_repeated_calls)
    d.neutral("spec.policy.approval_timeout_s", o.approval_timeout_s, n.approval_timeout_s)


def _escalation(d: _Diff, old: AgentSpec, new: AgentSpec) -> None:
    o, n = old.spec.escalation, new.spec.escalation
    if o is None or n is None:
        if o != n:
            d.add(
                "spec.escalation",
                ChangeKind.EXPANSION if n is None else ChangeKind.CONTRACTION,
                o.queue if o else None,
                n.queue if n else None,
            )
        return
    d.neutral("spec.escalation.queue", o.queue, n.queue)
    d.floor("spec.escalation.confidence_threshold", o.confidence_threshold, n.confidence_threshold)
    for t in sorted(set(o.on) - set(n.on)):
        d.add("spec.escalation.on", ChangeKind.EXPANSION, t.value, None)
    for t in sorted(set(n.on) - set(o.on)):
        d.add("spec.escalation.on", ChangeKind.CONTRACTION, None, t.value)


def _kill_criteria(d: _Diff, old: AgentSpec, new: AgentSpec) -> None:
    olds = {c.metric: c for c in old.spec.kill_criteria}
    news = {c.metric: c for c in new.spec.kill_criteria}
    for metric in sorted(set(olds) | set(news)):
        path = f"spec.kill_criteria.{metric}"
        oc, nc = olds.get(metric), news.get(metric)
        if oc is None or nc is None:
            d.add(
                path,
                ChangeKind.EXPANSION if nc is None else ChangeKind.CONTRACTION,
                _present(oc, "defined"),
                _present(nc, "defined"),
            )
            continue
        if metric in HIGHER_IS_BETTER:
            d.floor(f"{path}.threshold", oc.threshold, nc.threshold)
        else:
            d.limit(f"{path}.threshold", oc.threshold, nc.threshold)
        d.limit(f"{path}.min_samples", oc.min_samples, nc.min_samples)
        if oc.mode is not nc.mode:
            wider = nc.mode is RuleMode.ADVISORY
            d.add(
                f"{path}.mode",
                ChangeKind.EXPANSION if wider else ChangeKind.CONTRACTION,
                oc.mode.value,
                nc.mode.value,
            )
        d.neutral(f"{path}.window_s", oc.window_s, nc.window_s)
        d.neutral(f"{path}.action", oc.action, nc.action)


def _rollout(d: _Diff, old: AgentSpec, new: AgentSpec) -> None:
    o, n = old.spec.rollout, new.spec.rollout
    if o is None or n is None:
        if o != n:
            d.add(
                "spec.rollout",
                ChangeKind.EXPANSION if n is None else ChangeKind.CONTRACTION,
                _present(o, "plan"),
                _present(n, "plan"),
            )
        return
    d.limit("spec.rollout.canary.traffic", o.canary.traffic, n.canary.traffic)
    d.floor("spec.rollout.canary.min_runs", o.canary.min_runs, n.canary.min_runs)
    d.floor("spec.rollout.canary.clean_days", o.canary.clean_days, n.canary.clean_days)
    d.floor("spec.rollout.shadow.min_runs", o.shadow.min_runs, n.shadow.min_runs)
    d.floor("spec.rollout.shadow.min_agreement", o.shadow.min_agreement, n.shadow.min_agreement)
    d.floor("spec.rollout.shadow.min_days", o.shadow.min_days, n.shadow.min_days)
    d.floor("spec.rollout.stability_window_days", o.stability_window_days, n.stability_window_days)
    d.flag("spec.rollout.auto_advance", o.auto_advance, n.auto_advance, wider_when=True)
    d.neutral("spec.rollout.fallback", o.fallback, n.fallback)
