"""Policy decisions: a closed set of verdicts, the rule that decided, and why.

A decision is what the policy engine returns for one call. It always names the rule that
decided and gives one sentence a non-engineer understands. ``hits`` lists every rule that
fired, including advisory ones ("would have denied") that did not change the verdict.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["RULES", "Decision", "RuleHit", "RuleMode", "Verdict"]


class Verdict(StrEnum):
    """The closed set of policy verdicts, from least to most restrictive: allow < approval < deny."""

    ALLOW = "allow"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"

    @property
    def severity(self) -> int:
        """0 for allow, 1 for require_approval, 2 for deny."""
        return _SEVERITY[self]


_SEVERITY = {Verdict.ALLOW: 0, Verdict.REQUIRE_APPROVAL: 1, Verdict.DENY: 2}


class RuleMode(StrEnum):
    """How a policy rule acts when it fires."""

    ENFORCE = "enforce"
    """The rule's verdict applies."""
    ADVISORY = "advisory"
    """The verdict is recorded as "would have denied" and the call goes through."""


RULES: dict[str, str] = {
    "unknown_tool": "A tool the spec does not list is denied (deny by default).",
    "access": "The tool's access level: read and write run, approval asks a human, blocked never runs.",
    "argument_constraints": "Each argument must satisfy its enum, pattern, range, length and allow-list.",
    "conditional_approval": "The tool's approval_when expression over the arguments asks a human.",
    "rate_limit": "Calls of a tool per run and per minute per agent.",
    "blast_radius": "Most write calls one run may make.",
    "repeated_call": "The same tool with the same arguments too many times in a run (a loop).",
    "untrusted_egress": "After reading untrusted content, sending data out needs a human.",
    "provenance": "Recipients, accounts and URLs must come from trusted content.",
}
"""Every rule the engine knows, with what it checks. Names are stable (used in specs)."""


class RuleHit(BaseModel):
    """One rule that fired on a call."""

    model_config = ConfigDict(frozen=True)

    rule: str
    """Rule name, one of ``RULES``."""
    verdict: Verdict
    """What the rule asks for."""
    mode: RuleMode
    """``advisory`` hits are recorded but do not change the decision."""
    reason: str
    """One plain sentence."""


class Decision(BaseModel):
    """The policy's answer for one call."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    rule: str
    """The rule that decided (for ``allow``: the rule that allowed, usually ``access``)."""
    reason: str
    """One sentence a non-engineer understands."""
    hits: tuple[RuleHit, ...] = ()
    """Every rule that fired, enforced or advisory, in evaluation order."""

    @property
    def would_have_denied(self) -> bool:
        """True when an advisory rule asked for deny or approval but the call was let through."""
        return any(
            h.mode is RuleMode.ADVISORY and h.verdict is not Verdict.ALLOW for h in self.hits
        )

    @property
    def allowed(self) -> bool:
        """True when the verdict is ``allow``."""
        return self.verdict is Verdict.ALLOW
