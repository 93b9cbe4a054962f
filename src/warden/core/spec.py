"""The agent spec (``apiVersion: warden/v1``, ``kind: Agent``): the single source of truth.

Everything reads it: the policy engine, budgets, escalation, and (later) the rollout
controller, kill criteria, readiness review and alert routing. Unknown keys are errors,
never ignored (``extra="forbid"`` everywhere).

Shape (YAML)::

    apiVersion: warden/v1
    kind: Agent
    metadata: {name, version, owner, backup_owner, runbook, description}
    spec:
      scope: "..."            # plain words; the readiness review wants <= 200
      out_of_scope: [...]
      tools: {NAME: ToolSpec}
      budgets: {per_run: {...}, per_day: {...}}
      escalation: {queue, on: [...], confidence_threshold}
      policy: {mode, rules: {RULE: enforce|advisory}, ...}
      slos / kill_criteria / rollout / review / oncall

Numbers are checked strictly: every number must be finite (NaN and infinity are refused,
wherever they appear: a kill criterion whose ``threshold`` is NaN could never trip), a
number is never a boolean or text, and a count (budgets, rate limits, samples, runs, days)
is a whole number written as one (``max_steps: true`` or ``max_steps: 3.0`` is refused). An
``approval_when`` expression must be a condition: it is evaluated when the spec loads, on
arguments the tool's constraints allow, and refused when it gives something other than true
or false (see ``ToolSpec.approval_when``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from warden.core.decisions import RULES, RuleMode

__all__ = [
    "DEFAULT_BURN_ALERTS",
    "Access",
    "AgentBody",
    "AgentSpec",
    "ArgumentConstraint",
    "Budgets",
    "BurnAlert",
    "CanaryGate",
    "DailyBudget",
    "Escalation",
    "EscalationTrigger",
    "FlowAction",
    "KillCriterion",
    "Metadata",
    "OnCall",
    "OnCallChannel",
    "PolicySettings",
    "RateLimit",
    "Review",
    "Rollout",
    "RuleMode",
    "RunBudget",
    "ShadowGate",
    "Slo",
    "ToolSpec",
]

_NAME = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$"

_Number = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite number, written as an integer or a decimal: never a boolean, text, NaN or
infinity."""

_Count = StrictInt
"""A whole number written as one: never a boolean, a decimal (even ``3.0``) or text."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
        str_strip_whitespace=True,
        allow_inf_nan=False,  # every float of the spec is finite, argument min/max included
    )


class Access(StrEnum):
    """What an agent may do with a tool."""

    READ = "read"
    """Runs freely; has no side effects. Executed in shadow mode."""
    WRITE = "write"
    """Has side effects. Runs when the policy allows; proposed, not executed, in shadow mode."""
    APPROVAL = "approval"
    """Has side effects and needs a human's approval on every call."""
    BLOCKED = "blocked"
    """Never runs for this agent, whatever the arguments."""


class FlowAction(StrEnum):
    """What an information-flow rule does when it fires."""

    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"


class ArgumentConstraint(_Strict):
    """Constraints on one argument of a tool. All given constraints must hold."""

    enum: list[str | int | float | bool] | None = None
    """The value must be one of these, exactly."""
    pattern: str | None = None
    """Regular expression the whole string value must match, in RE2 syntax (linear time:
    no backreferences or lookaround; ``\\d``, ``\\w``, ``\\s`` are ASCII). Checked on load."""
    min: float | None = None
    """Smallest allowed numeric value (inclusive)."""
    max: float | None = None
    """Largest allowed numeric value (inclusive)."""
    max_length: Annotated[int, Field(ge=0)] | None = None
    """Longest allowed string (characters) or list (items)."""
    allow: list[str] | None = None
    """Allow-list of glob patterns matched against the whole value, e.g. ``"*@example.com"``:
    ``*`` and ``?`` never cross ``@``, ``/``, ``,`` or whitespace; a value with an ``@`` must be
    one bare e-mail address (see ``warden.policy.constraints``)."""
    required: bool = False
    """The argument must be present in every call."""

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, v: str | None) -> str | None:
        """Patterns run on RE2 (``google-re2``), whose matching time is linear in the input, so
        a pattern like ``(a+)+$`` cannot stall a call (Python's backtracking ``re`` takes
        exponential time on it). RE2 has no backreferences or lookaround: such a pattern is
        refused here, when the spec loads, rather than at the first call."""
        if v is not None:
            import re2  # pyright: ignore[reportMissingTypeStubs]

            options: Any = re2.Options()
            options.log_errors = False  # RE2 would print every parse error to stderr
            try:
                re2.compile(v, options)  # pyright: ignore[reportUnknownMemberType]
            except Exception as exc:  # re2.error, with the parser's message as bytes
                detail: Any = exc.args[0] if exc.args else exc
                if isinstance(detail, bytes):
                    detail = detail.decode("utf-8", "replace")
                raise ValueError(
                    "pattern is not a valid regular expression for RE2, the linear-time engine "
                    "patterns run on (backreferences and lookaround are not supported): "
                    f"{detail}"
                ) from exc
        return v

    @model_validator(mode="after")
    def _min_le_max(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


class RateLimit(_Strict):
    """How often a tool may be called."""

    per_run: Annotated[_Count, Field(ge=0)] | None = None
    """Most calls of this tool in one run."""
    per_minute: Annotated[_Count, Field(ge=0)] | None = None
    """Most calls of this tool per agent in any 60-second window (seconds, sliding)."""


class ToolSpec(_Strict):
    """One tool the agent may see, and what it may do with it."""

    access: Access
    """read | write | approval | blocked."""
    description: str = ""
    """What the tool does, in plain words (shown to reviewers)."""
    idempotent: bool = False
    """Calling it twice with the same idempotency key applies once; safe to retry."""
    arguments: dict[str, ArgumentConstraint] = Field(default_factory=dict[str, ArgumentConstraint])
    """Constraints per argument name."""
    approval_when: str | None = None
    """CEL expression over the arguments; when true the call needs approval (``amount > 100``).
    It must be a condition: when the spec loads it is run on arguments that ``arguments``
    allows (each typed by its constraints; one without them tried as each JSON type), and a
    result other than true or false on all of them is refused (``1 + 2``, ``amount``)."""
    rate_limit: RateLimit | None = None
    """Call-rate limits."""
    untrusted_output: bool = False
    """Its results may carry text a third party wrote (web pages, emails): injection risk."""
    egress: bool = False
    """It sends data outside the organisation (email, payments, HTTP)."""
    provenance: list[str] = Field(default_factory=list[str])
    """Arguments (recipient, account, URL) whose values must come from trusted content."""
    timeout_s: Annotated[_Number, Field(gt=0)] | None = None
    """Per-call timeout in seconds; none means no timeout."""
    max_attempts: Annotated[_Count, Field(ge=1, le=20)] = 3
    """Attempts for idempotent or read tools (1 = no retry). Backoff is exponential + jitter."""

    @field_validator("provenance")
    @classmethod
    def _provenance_names_declared_arguments(cls, v: list[str], info: ValidationInfo) -> list[str]:
        declared: dict[str, ArgumentConstraint] = info.data.get("arguments") or {}
        missing = [a for a in v if a not in declared]
        if declared and missing:
            raise ValueError(f"names {missing}, which are not listed under arguments")
        return v

    @field_validator("approval_when")
    @classmethod
    def _cel_is_a_condition(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            declared: dict[str, ArgumentConstraint] = info.data.get("arguments") or {}
            problem = _approval_when_problem(v, declared)
            if problem is not None:
                raise ValueError(problem)
        return v

    @property
    def has_side_effects(self) -> bool:
        """True for write and approval tools (not executed in shadow mode)."""
        return self.access in (Access.WRITE, Access.APPROVAL)

    @property
    def retryable(self) -> bool:
        """True when a failed call may be retried: read tools and idempotent tools."""
        return self.idempotent or self.access is Access.READ


class RunBudget(_Strict):
    """Limits for one run. ``None`` means no limit."""

    max_steps: Annotated[_Count, Field(ge=1)] | None = None
    """Tool calls plus model calls."""
    max_tool_calls: Annotated[_Count, Field(ge=1)] | None = None
    """Tool calls, whatever their decision."""
    max_tokens: Annotated[_Count, Field(ge=1)] | None = None
    """Input plus output tokens over all model calls."""
    max_cost_usd: Annotated[_Number, Field(gt=0)] | None = None
    """Model cost in USD."""
    max_wall_clock_s: Annotated[_Number, Field(gt=0)] | None = None
    """Seconds from run start."""


class DailyBudget(_Strict):
    """Limits per agent per UTC day. ``None`` means no limit."""

    max_cost_usd: Annotated[_Number, Field(gt=0)] | None = None
    """Model cost in USD over all runs started that day."""
    max_runs: Annotated[_Count, Field(ge=1)] | None = None
    """Runs started that day."""


class Budgets(_Strict):
    """Spending limits."""

    per_run: RunBudget = Field(default_factory=RunBudget)
    per_day: DailyBudget = Field(default_factory=DailyBudget)

    @property
    def is_set(self) -> bool:
        """True when at least one limit is set."""
        return any(v is not None for v in self.per_run.model_dump().values()) or any(
            v is not None for v in self.per_day.model_dump().values()
        )


class EscalationTrigger(StrEnum):
    """Conditions that hand a run to humans automatically."""

    LOW_CONFIDENCE = "low_confidence"
    BUDGET_EXCEEDED = "budget_exceeded"
    POLICY_DENIED = "policy_denied"
    TOOL_FAILED = "tool_failed"
    APPROVAL_TIMEOUT = "approval_timeout"


class Escalation(_Strict):
    """Where runs go when the agent should not finish them alone."""

    queue: Annotated[str, Field(min_length=1)]
    """Named human queue that receives handoff packets, e.g. ``tier1-humans``."""
    on: list[EscalationTrigger] = Field(
        default_factory=lambda: [
            EscalationTrigger.LOW_CONFIDENCE,
            EscalationTrigger.BUDGET_EXCEEDED,
            EscalationTrigger.TOOL_FAILED,
            EscalationTrigger.APPROVAL_TIMEOUT,
        ]
    )
    """Which conditions escalate (the others end the run ``failed`` or ``blocked``)."""
    confidence_threshold: Annotated[_Number, Field(ge=0, le=1)] = 0.5
    """Below this model confidence, ``run.check_confidence`` escalates."""
    notify: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    """A URL POSTed a small JSON (``id``, ``agent``, ``queue``, ``trigger``, ``reason``,
    ``link``, and ``text`` for a Slack incoming webhook) when a packet lands in the queue;
    best effort, never holding up the run."""


class PolicySettings(_Strict):
    """How the policy engine behaves for this agent."""

    mode: RuleMode = RuleMode.ENFORCE
    """Default mode of every rule; ``advisory`` is audit-only for the whole agent."""
    rules: dict[str, RuleMode] = Field(default_factory=dict[str, RuleMode])
    """Per-rule mode overrides, e.g. ``{provenance: advisory}``."""
    untrusted_egress: FlowAction = FlowAction.REQUIRE_APPROVAL
    """After a result from an ``untrusted_output`` tool, what an ``egress`` call gets."""
    untrusted_carry_hours: Annotated[_Number, Field(ge=0, le=24 * 365)] = 24.0
    """A run starts having read untrusted content when an earlier run with the same
    routing key read it within this many hours (``untrusted_egress`` applies); 0: off."""
    provenance: FlowAction = FlowAction.REQUIRE_APPROVAL
    """What a call gets when a ``provenance`` argument is not found in trusted content."""
    max_write_calls_per_run: Annotated[_Count, Field(ge=0)] | None = None
    """Blast radius: most write/approval calls one run may make."""
    max_repeated_calls: Annotated[_Count, Field(ge=2)] = 5
    """Loop detection: the same tool with the same arguments this many times is denied."""
    approval_timeout_s: Annotated[_Number, Field(gt=0)] = 900.0
    """Seconds a run waits for an approval decision before it escalates."""

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, v: dict[str, RuleMode]) -> dict[str, RuleMode]:
        unknown = sorted(set(v) - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known rules: {sorted(RULES)}")
        return v

    def mode_of(self, rule: str) -> RuleMode:
        """Return the mode of ``rule``: its override, else the agent's default mode."""
        return self.rules.get(rule, self.mode)


class BurnAlert(_Strict):
    """A multi-window burn-rate alert on an SLO (Google SRE Workbook ch. 5, "Alerting on
    SLOs", approach 6): it fires when the error budget burns faster than ``burn_rate``
    over both the long and the short window.

    The burn rate is the bad-event ratio over a window divided by the ratio the SLO allows
    (``1 - objective`` for ``success_rate``): 1 spends the budget exactly over
    ``window_days``, 14.4 spends 2 % of a 30-day budget in an hour. The short window (the
    Workbook suggests 1/12 of the long one) makes the alert stop soon after the burn does.
    """

    long_window_s: Annotated[_Number, Field(gt=0)]
    """Long window in seconds (e.g. 3600)."""
    short_window_s: Annotated[_Number, Field(gt=0)]
    """Short window in seconds, shorter than the long one (e.g. 300)."""
    burn_rate: Annotated[_Number, Field(gt=0)]
    """Fires when the burn rate is above this over both windows (a multiple, no unit)."""
    severity: Literal["page", "ticket"] = "page"
    """``page``: an incident and a page to the owner; ``ticket``: an incident only."""

    @model_validator(mode="after")
    def _short_inside_long(self) -> Self:
        if self.short_window_s >= self.long_window_s:
            raise ValueError(
                f"short_window_s ({self.short_window_s:g}) must be shorter than "
                f"long_window_s ({self.long_window_s:g})"
            )
        return self


DEFAULT_BURN_ALERTS: tuple[BurnAlert, ...] = (
    BurnAlert(long_window_s=3600, short_window_s=300, burn_rate=14.4, severity="page"),
    BurnAlert(long_window_s=6 * 3600, short_window_s=1800, burn_rate=6, severity="page"),
    BurnAlert(long_window_s=3 * 86400, short_window_s=6 * 3600, burn_rate=1, severity="ticket"),
)
"""The SRE Workbook's recommended alerts for a 30-day SLO (ch. 5, table 5-8): page at
14.4x over 1 h and 5 min (2 % of the budget), page at 6x over 6 h and 30 min (5 %), ticket
at 1x over 3 days and 6 h (10 %)."""


class Slo(_Strict):
    """A service-level objective over ``window_days``, with its error budget and burn-rate
    alerts (``core.burn``; Google SRE Workbook ch. 2 and 5).

    Bad events: for ``success_rate`` finished runs not ``resolved`` (allowed ratio
    ``1 - objective``); for ``error_rate`` and ``escalation_rate`` errored or escalated runs
    (allowed ratio ``objective``); for ``latency_p95_s`` runs slower than the objective
    (allowed ratio 5 %). The canary gate also checks the objective (``core.slo``).
    """

    name: Annotated[str, Field(min_length=1)]
    metric: Literal["success_rate", "latency_p95_s", "escalation_rate", "error_rate"]
    objective: _Number
    """Target value: a ratio in [0, 1] for rates, seconds for latency."""
    window_days: Annotated[_Count, Field(ge=1, le=90)] = 30
    """The error budget's window in days."""
    alerts: list[BurnAlert] | None = None
    """Burn-rate alerts; None (left out): ``DEFAULT_BURN_ALERTS``; ``[]``: none."""
    min_runs: Annotated[_Count, Field(ge=1)] = 20
    """Fewer events in an alert's long window: the alert does not fire (1 bad run of 2
    does not page)."""

    @property
    def burn_alerts(self) -> tuple[BurnAlert, ...]:
        """The alerts in force: ``alerts``, or the SRE Workbook defaults when not set."""
        return DEFAULT_BURN_ALERTS if self.alerts is None else tuple(self.alerts)

    @model_validator(mode="after")
    def _alerts_fit(self) -> Self:
        budget_s = self.window_days * 86400
        seen: set[tuple[float, float, float]] = set()
        for a in self.alerts or []:
            if a.long_window_s > budget_s:
                raise ValueError(
                    f"alert long_window_s {a.long_window_s:g} is longer than the SLO's "
                    f"window ({self.window_days} days)"
                )
            key = (a.long_window_s, a.short_window_s, a.burn_rate)
            if key in seen:
                raise ValueError(
                    f"duplicate alert: burn rate {a.burn_rate:g} over "
                    f"{a.long_window_s:g} s and {a.short_window_s:g} s"
                )
            seen.add(key)
        return self


class KillCriterion(_Strict):
    """A pre-agreed condition that stops the agent.

    Evaluated after runs end and by ``warden monitor`` over the runs of the version in use
    that ended in the last ``window_s`` seconds (metrics: ``core.metrics``). It trips when
    at least ``min_samples`` samples put the metric beyond ``threshold``: above it, or
    below it for ``shadow_agreement``. A trip opens an incident; in ``enforce`` mode it
    also applies ``action`` (``pause``: the kill switch; ``rollback``: the rollout is
    rolled back) and pages the on-call channels (``page`` only pages). In ``advisory``
    mode the incident records what would have happened and nothing else.
    """

    metric: Literal[
        "error_rate",
        "escalation_rate",
        "policy_denial_rate",
        "tool_failure_rate",
        "cost_per_completed_usd",
        "latency_p95_s",
        "shadow_agreement",
    ]
    threshold: _Number
    """Bad above this value (below it for ``shadow_agreement``); rates in [0, 1], USD for
    cost, seconds for latency."""
    window_s: Annotated[_Number, Field(gt=0)] = 3600.0
    """Window length in seconds."""
    min_samples: Annotated[_Count, Field(ge=1)] = 50
    """Fewer samples in the window: inconclusive, never a trip."""
    action: Literal["pause", "rollback", "page"] = "pause"
    mode: RuleMode = RuleMode.ADVISORY
    """``advisory`` first (record only), then ``enforce``."""


class ShadowGate(_Strict):
    """Gate out of shadow: the agent's proposals agree with what people actually did."""

    min_runs: Annotated[_Count, Field(ge=1)] = 200
    """Shadow runs of this spec version whose proposal was compared with a person's action."""
    min_agreement: Annotated[_Number, Field(ge=0, le=1)] = 0.85
    """Smallest agreement rate (point estimate; the Wilson 95% interval is shown with it)."""
    min_days: Annotated[_Number, Field(ge=0)] = 14
    """Days in shadow (since the stage or this spec version started, whichever is later)."""


class CanaryGate(_Strict):
    """The canary: a slice of traffic, and the gate out of it."""

    traffic: Annotated[_Number, Field(gt=0, le=1)] = 0.10
    """Share of routing keys the agent handles live (sticky per key); the rest fall back."""
    min_runs: Annotated[_Count, Field(ge=1)] = 200
    """Finished canary runs of this spec version."""
    clean_days: Annotated[_Number, Field(ge=0)] = 14
    """Days in canary with no kill criterion tripped (and the SLOs met)."""


class Rollout(_Strict):
    """Rollout plan: shadow, then canary, then live. Any spec change restarts the gate."""

    shadow: ShadowGate = Field(default_factory=ShadowGate)
    canary: CanaryGate = Field(default_factory=CanaryGate)
    stability_window_days: Annotated[_Count, Field(ge=0)] = 90
    """Days after going live during which a scope expansion also needs
    ``--override-stability --reason``."""
    fallback: Annotated[str, Field(min_length=1)] = "human_queue"
    """Where fallback runs go (outside the canary slice, paused, rolled back): ``human_queue``
    (a handoff packet in ``escalation.queue``) or the version label of an earlier version,
    which the caller runs."""
    auto_advance: bool = False
    """Advance on its own when the gate passes (``warden monitor``); else an owner advances."""


class Review(_Strict):
    """Human review of a sample of runs."""

    sample_rate: Annotated[_Number, Field(ge=0, le=1)] = 0.05
    queue: str | None = None


class Retention(_Strict):
    """How long raw records are kept (``warden db prune`` and ``warden monitor`` apply it)."""

    raw_days: Annotated[_Count, Field(ge=1, le=36_500)]
    """Days a run, its tool calls, model calls, approvals and closed handoffs are kept after
    the run ended. The metrics' rollups, incidents, outcomes and the audit chain (which
    records each prune) are kept whatever this says."""


class OnCallChannel(_Strict):
    """Where pages go."""

    type: Literal["webhook", "pagerduty", "slack", "email"]
    """``webhook`` (generic JSON POST), ``pagerduty`` (Events API v2), ``slack`` (incoming
    webhook), ``email`` (SMTP, from ``WARDEN_SMTP_HOST`` and ``WARDEN_SMTP_FROM``; without
    them recorded as undelivered)."""
    target: Annotated[str, Field(min_length=1)]
    """URL for webhook and slack; routing key (integration key) for PagerDuty; address for
    email."""
    url: str | None = None
    """PagerDuty only: the Events API endpoint (default
    ``https://events.pagerduty.com/v2/enqueue``), e.g. a regional or test endpoint."""


class OnCall(_Strict):
    """Who is paged, and how."""

    channels: list[OnCallChannel] = Field(default_factory=list[OnCallChannel])
    """The owner's channels: every page goes here first."""
    backup_channels: list[OnCallChannel] = Field(default_factory=list[OnCallChannel])
    """The backup owner's channels: paged when an incident is not acknowledged in time."""
    ack_timeout_s: Annotated[_Number, Field(gt=0)] = 900.0
    """Seconds an incident may stay unacknowledged before the backup owner is paged."""


class Metadata(_Strict):
    """Who the agent is and who answers for it."""

    name: Annotated[str, Field(pattern=_NAME)]
    """Stable agent name: lowercase letters, digits, ``.``, ``_``, ``-``."""
    version: Annotated[str, Field(min_length=1)]
    """The owner's version label, e.g. ``1.4.0``."""
    owner: Annotated[str, Field(min_length=1)]
    """The accountable person (email or handle)."""
    backup_owner: Annotated[str, Field(min_length=1)]
    """Who answers when the owner is away."""
    runbook: Annotated[str, Field(min_length=1)]
    """URL or repository path of the runbook the on-call person follows."""
    description: str = ""
    """One line on what the agent is for."""


class AgentBody(_Strict):
    """The charter itself."""

    scope: Annotated[str, Field(min_length=1)]
    """What the agent does, in plain words (the readiness review wants <= 200 words)."""
    out_of_scope: list[str] = Field(default_factory=list[str])
    """What it must never do, in plain words."""
    tools: dict[str, ToolSpec] = Field(default_factory=dict[str, ToolSpec])
    """Every tool the agent may see. A tool not listed here is denied."""
    budgets: Budgets = Field(default_factory=Budgets)
    escalation: Escalation | None = None
    policy: PolicySettings = Field(default_factory=PolicySettings)
    slos: list[Slo] = Field(default_factory=list[Slo])
    kill_criteria: list[KillCriterion] = Field(default_factory=list[KillCriterion])
    rollout: Rollout | None = None
    review: Review | None = None
    oncall: OnCall | None = None
    retention: Retention | None = None
    """How long raw records are kept; None: the server's default (``WARDEN_RETENTION_DAYS``),
    else forever."""

    @model_validator(mode="after")
    def _fallback_queue(self) -> Self:
        if (
            self.rollout is not None
            and self.rollout.fallback == "human_queue"
            and not self.escalation
        ):
            raise ValueError(
                "rollout.fallback is human_queue, which needs an escalation queue (spec.escalation)"
            )
        return self

    @field_validator("tools")
    @classmethod
    def _tool_names(cls, v: dict[str, ToolSpec]) -> dict[str, ToolSpec]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}", name):
                raise ValueError(f"tool name {name!r} must be an identifier")
        return v


class AgentSpec(_Strict):
    """A whole agent spec document."""

    api_version: Literal["warden/v1"] = Field(alias="apiVersion")
    """Always ``warden/v1``."""
    kind: Literal["Agent"]
    """Always ``Agent``."""
    metadata: Metadata
    spec: AgentBody

    @property
    def name(self) -> str:
        """The agent's name (``metadata.name``)."""
        return self.metadata.name

    def tool(self, name: str) -> ToolSpec | None:
        """Return the spec of tool ``name``, or None when the spec does not list it."""
        return self.spec.tools.get(name)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the normalised spec as canonical JSON; equal specs, equal hash."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def canonical_json(self) -> str:
        """The normalised spec as JSON with sorted keys and no whitespace.

        Fields at their default value are left out, so a spec written out in full and the
        same spec relying on defaults are equal, and a new optional field in a later
        Warden does not change the hash (the version) of specs that do not set it.
        """
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


# --- approval_when: a CEL condition --------------------------------------------------------

_COMPREHENSION = re.compile(r"\b(?:all|exists|exists_one|map|filter)\b")
"""CEL's comprehension macros; nested, they take exponential time, so an expression that
names one anywhere (even inside a string) is compiled but not run at load."""

_ANY_JSON: tuple[Any, ...] = (False, True, 0, 0.5, "", [], {})
"""A value of each JSON type, for an argument whose constraints do not fix its type."""

_MAX_TRIES = 64
"""Most synthetic argument sets an ``approval_when`` is run on at load."""


def _approval_when_problem(source: str, declared: Mapping[str, ArgumentConstraint]) -> str | None:
    """Why ``source`` is not a usable ``approval_when``, or None when it is.

    The CEL library (``common-expression-language``, the Rust ``cel`` crate) parses and
    evaluates but has no type checker, so the type is found by running the expression: on
    synthetic arguments, each declared argument with values of the JSON types its
    constraints allow (an ``enum``'s values; numbers at ``min`` and ``max``, as integers and
    decimals; text; lists) and each other name it reads with a value of every JSON type. It
    is refused when some set gives a result and none gives true or false; sets on which it
    fails (a missing key, a type CEL cannot compare) prove nothing and are left to the
    runtime, which fails closed (a person decides).
    """
    # imported here, not at the top: ``cel`` imports its CLI (prompt_toolkit), about 100 ms,
    # which only a spec with an ``approval_when`` needs
    import cel  # pyright: ignore[reportMissingTypeStubs]

    try:
        program: Any = cel.compile(source)  # pyright: ignore[reportUnknownMemberType]
    except Exception as exc:
        first = str(exc).splitlines()[0]
        return f"approval_when is not a valid CEL expression: {first}"
    if _COMPREHENSION.search(source):
        return None
    names = sorted({*declared, *(str(n) for n in program.variables())} - {"args"})
    samples = {name: _samples(declared.get(name)) for name in names}
    base = {name: values[0] for name, values in samples.items()}
    tries = [base] + [
        {**base, name: value} for name, values in samples.items() for value in values[1:]
    ]
    wrong: list[Any] = []
    for arguments in tries[:_MAX_TRIES]:
        try:
            result = program.execute({**arguments, "args": arguments})
        except Exception:  # it fails on made-up arguments: that proves nothing
            continue
        if isinstance(result, bool):
            return None
        wrong.append(result)
    if not wrong:
        return None
    return (
        "approval_when must be true or false (a condition over the arguments), but it gives "
        f"{_cel_value(wrong[0])} for arguments the spec allows"
    )


def _samples(rule: ArgumentConstraint | None) -> list[Any]:
    """Values of each JSON type an argument under ``rule`` may hold, most typical first."""
    if rule is None:
        return list(_ANY_JSON)
    if rule.enum:
        return list(rule.enum[:8])
    kinds = {"boolean", "number", "text", "list", "map"}
    if rule.pattern is not None:
        kinds &= {"text"}
    if rule.min is not None or rule.max is not None:
        kinds &= {"number"}
    if rule.max_length is not None:
        kinds &= {"text", "list", "map"}
    if rule.allow is not None:
        kinds &= {"text", "list"}
    out: list[Any] = []
    if "number" in kinds:
        low = rule.min if rule.min is not None else (rule.max if rule.max is not None else 0.0)
        high = rule.max if rule.max is not None else low + 1
        whole = [n for n in (math.ceil(low), math.floor(high)) if low <= n <= high]
        out += [*dict.fromkeys([float(low), float(high)]), *dict.fromkeys(whole)]  # 1.0 != 1 in CEL
    if "text" in kinds:
        out.append("")
    if "list" in kinds:
        out.append([])
    if "map" in kinds:
        out.append({})
    if "boolean" in kinds:
        out += [False, True]
    return out or list(_ANY_JSON)


def _cel_value(value: object) -> str:
    """``value`` as CEL names its type, e.g. ``an int (3)``."""
    if value is None:
        return "null"
    cls = value.__class__
    kinds: dict[type[object], str] = {int: "an int", float: "a double", str: "a string"}
    kinds |= {bytes: "bytes", list: "a list", dict: "a map"}
    kind = kinds.get(cls, f"a {cls.__name__}")
    shown = repr(value)
    return f"{kind} ({shown if len(shown) <= 40 else shown[:37] + '...'})"
