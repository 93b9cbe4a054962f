"""The readiness review: a checklist an agent must pass before it leaves shadow.

Each item passes or fails, and a failing item says how to fix it. Items about the spec are
decided from the spec alone; items about what happened (a test page delivered to every
on-call channel, a recent kill-switch drill, the eval set's latest result) are decided
from ``ReadinessFacts`` gathered by the runtime. A fact nobody has produced yet counts as a
failure: no data is not a pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from warden.core.paging import channel_label
from warden.core.spec import Access, AgentSpec

__all__ = [
    "DRILL_MAX_AGE",
    "EVAL_MIN_CASES",
    "OVERRIDE_LOOKBACK",
    "SCOPE_MAX_WORDS",
    "CheckStatus",
    "ReadinessFacts",
    "ReadinessItem",
    "ReadinessReport",
    "review",
]

SCOPE_MAX_WORDS = 200
"""Longest scope, in words, a reviewer can hold in mind."""
DRILL_MAX_AGE = timedelta(days=30)
"""A kill-switch drill older than this does not count."""
EVAL_MIN_CASES = 50
"""Smallest eval set that counts."""
OVERRIDE_LOOKBACK = timedelta(days=7)
"""A run of the version forced past its rollout this recently fails the review."""


class CheckStatus(StrEnum):
    """Result of one checklist item."""

    PASS = "pass"
    FAIL = "fail"


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class ReadinessFacts(_Model):
    """What happened, as far as the store knows. None means never (or not known)."""

    runbook_found: bool | None = None
    """The runbook exists (a URL counts; a repository path must exist); None: not checked."""
    test_page_delivered_at: datetime | None = None
    """When a test page last reached an on-call channel."""
    test_paged_channels: list[str] = Field(default_factory=list[str])
    """The channels a test page was delivered to, as ``type target``
    (``core.paging.delivery_label``); the ``oncall`` item needs every channel here."""
    last_drill_at: datetime | None = None
    """When the last successful kill-switch drill ended."""
    eval_cases: int | None = None
    """Cases in the agent's eval set (from the evals issue)."""
    eval_passed: bool | None = None
    """Whether the eval set's latest result passed."""
    rollout_overrides: int = 0
    """Runs of this version forced past the rollout (``dangerously_override_rollout``)
    within ``OVERRIDE_LOOKBACK``."""


class ReadinessItem(_Model):
    """One checklist item."""

    name: str
    status: CheckStatus
    detail: str
    """What was found, in plain words."""
    fix: str = ""
    """How to make it pass (empty when it passes)."""


class ReadinessReport(_Model):
    """The whole checklist for one agent."""

    agent: str
    spec_version: str
    at: datetime
    items: list[ReadinessItem] = Field(default_factory=list[ReadinessItem])

    @property
    def passed(self) -> bool:
        """True when every item passes."""
        return all(i.status is CheckStatus.PASS for i in self.items)

    @property
    def failing(self) -> list[ReadinessItem]:
        """The items that fail."""
        return [i for i in self.items if i.status is CheckStatus.FAIL]

    def item(self, name: str) -> ReadinessItem:
        """The item called ``name``.

        Raises:
            KeyError: No item has that name.
        """
        for i in self.items:
            if i.name == name:
                return i
        raise KeyError(name)


def _item(name: str, ok: bool, detail: str, fix: str) -> ReadinessItem:
    return ReadinessItem(
        name=name,
        status=CheckStatus.PASS if ok else CheckStatus.FAIL,
        detail=detail,
        fix="" if ok else fix,
    )


def review(spec: AgentSpec, facts: ReadinessFacts, now: datetime) -> ReadinessReport:
    """Run the checklist for ``spec`` with ``facts`` at time ``now``."""
    m, body = spec.metadata, spec.spec
    items: list[ReadinessItem] = []
    distinct = m.owner.strip().lower() != m.backup_owner.strip().lower()
    items.append(
        _item(
            "owners",
            distinct,
            f"owner {m.owner}, backup owner {m.backup_owner}",
            "name a backup owner who is not the owner (metadata.backup_owner)",
        )
    )
    words = len(body.scope.split())
    items.append(
        _item(
            "scope",
            words <= SCOPE_MAX_WORDS,
            f"scope is {words} words",
            f"cut spec.scope to {SCOPE_MAX_WORDS} words or fewer",
        )
    )
    loose = [
        name
        for name, tool in body.tools.items()
        if tool.access is Access.WRITE and not tool.arguments and tool.approval_when is None
    ]
    items.append(
        _item(
            "write_tools_constrained",
            not loose,
            "every write tool has argument constraints or an approval condition"
            if not loose
            else f"write tools with no constraint and no approval: {', '.join(sorted(loose))}",
            "add arguments constraints or approval_when to each, or make them access: approval",
        )
    )
    items.append(
        _item(
            "budgets",
            body.budgets.is_set,
            "budgets set" if body.budgets.is_set else "no budget limit is set",
            "set spec.budgets.per_run and per_day limits",
        )
    )
    items.append(
        _item(
            "kill_criteria",
            bool(body.kill_criteria),
            f"{len(body.kill_criteria)} kill criteria",
            "define spec.kill_criteria (metric, threshold, window, min_samples, action)",
        )
    )
    items.append(
        _item(
            "runbook",
            facts.runbook_found is not False,
            f"runbook {m.runbook}" + (" not found" if facts.runbook_found is False else ""),
            f"write the runbook at {m.runbook} (or point metadata.runbook at it)",
        )
    )
    oncall = body.oncall
    channels = [*oncall.channels, *oncall.backup_channels] if oncall else []
    reached = set(facts.test_paged_channels)
    missing = [label for label in map(channel_label, channels) if label not in reached]
    if not channels:
        paged = "no test page delivered"
    elif missing:
        paged = f"no test page delivered to {', '.join(missing)}"
    else:
        paged = "a test page delivered to each" + (
            f", last {facts.test_page_delivered_at:%Y-%m-%d}"
            if facts.test_page_delivered_at
            else ""
        )
    items.append(
        _item(
            "oncall",
            bool(oncall and oncall.channels) and not missing,
            f"{len(channels)} on-call channel(s); {paged}",
            "set spec.oncall.channels"
            if not (oncall and oncall.channels)
            else f"send a test page until every channel gets it: warden page test {spec.name}",
        )
    )
    drilled = facts.last_drill_at is not None and now - facts.last_drill_at <= DRILL_MAX_AGE
    items.append(
        _item(
            "kill_switch_drill",
            drilled,
            f"last drill {facts.last_drill_at:%Y-%m-%d}"
            if facts.last_drill_at
            else "no kill-switch drill recorded",
            f"run a drill: warden drill kill-switch {spec.name} (needed every "
            f"{DRILL_MAX_AGE.days} days)",
        )
    )
    cases = facts.eval_cases
    evals_ok = cases is not None and cases >= EVAL_MIN_CASES and facts.eval_passed is True
    items.append(
        _item(
            "eval_set",
            evals_ok,
            "no eval results found"
            if cases is None
            else f"{cases} eval cases, latest result "
            + ("passed" if facts.eval_passed else "failed or missing"),
            f"build an eval set of at least {EVAL_MIN_CASES} cases and get a passing result "
            "(warden eval, from the evals issue)",
        )
    )
    forced = facts.rollout_overrides
    items.append(
        _item(
            "no_rollout_overrides",
            forced == 0,
            "no run forced past the rollout"
            if forced == 0
            else f"{forced} run(s) of this version in the last {OVERRIDE_LOOKBACK.days} days "
            "were forced past the rollout (mode= with dangerously_override_rollout)",
            "remove mode=/dangerously_override_rollout from the agent's code: the rollout, "
            "not the agent, decides how its runs go (warden runs list --overridden)",
        )
    )
    return ReadinessReport(agent=spec.name, spec_version=m.version, at=now, items=items)
