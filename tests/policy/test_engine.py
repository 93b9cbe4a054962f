"""The policy engine as a whole: deny by default, combining rules, modes, purity."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest

from tests.policy.helpers import fresh, make_call, make_spec
from warden.core.decisions import RULES, Decision, RuleMode, Verdict
from warden.core.spec_loader import parse_spec
from warden.policy import decide
from warden.policy.rules import RULE_CHECKS


def hits(decision: Decision) -> list[tuple[str, Verdict, RuleMode]]:
    return [(h.rule, h.verdict, h.mode) for h in decision.hits]


E, A = RuleMode.ENFORCE, RuleMode.ADVISORY

# The ticket router from the design, as YAML, end to end through the loader.
TICKET_ROUTER = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: ticket-router
      version: "1.0"
      owner: alice@example.com
      backup_owner: bob@example.com
      runbook: docs/runbooks/ticket-router.md
    spec:
      scope: Route support tickets to the right queue.
      tools:
        lookup_customer:
          access: read
          arguments:
            customer_id: {pattern: "C-[0-9]{6}", required: true}
        route_ticket:
          access: write
          idempotent: true
          arguments:
            ticket_id: {pattern: "T-[0-9]+", required: true}
            queue: {enum: [billing, technical, general], required: true}
          rate_limit: {per_run: 1}
        issue_refund:
          access: blocked
        escalate_to_human:
          access: write
          arguments:
            reason: {max_length: 200}
    """
)


# --- rule catalogue ------------------------------------------------------------------------


def test_every_rule_in_the_catalogue_is_checked_once() -> None:
    names = [name for name, _ in RULE_CHECKS]
    assert len(names) == len(set(names))
    assert {*names, "unknown_tool"} == set(RULES)
    assert names[0] == "access"


# --- the ticket router end to end ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "verdict", "rule"),
    [
        ("lookup_customer", {"customer_id": "C-123456"}, Verdict.ALLOW, "access"),
        ("lookup_customer", {"customer_id": "C-12"}, Verdict.DENY, "argument_constraints"),
        ("lookup_customer", {}, Verdict.DENY, "argument_constraints"),
        ("route_ticket", {"ticket_id": "T-9", "queue": "billing"}, Verdict.ALLOW, "access"),
        (
            "route_ticket",
            {"ticket_id": "T-9", "queue": "refunds"},
            Verdict.DENY,
            "argument_constraints",
        ),
        ("issue_refund", {"amount": 10}, Verdict.DENY, "access"),
        ("escalate_to_human", {"reason": "angry customer"}, Verdict.ALLOW, "access"),
        ("escalate_to_human", {"reason": "x" * 201}, Verdict.DENY, "argument_constraints"),
        ("delete_account", {"customer_id": "C-123456"}, Verdict.DENY, "unknown_tool"),
    ],
)
def test_ticket_router_decisions(
    tool: str, arguments: dict[str, Any], verdict: Verdict, rule: str
) -> None:
    spec = parse_spec(TICKET_ROUTER)
    d = decide(spec, make_call(tool, **arguments), fresh("ticket T-9 from C-123456"))
    assert (d.verdict, d.rule) == (verdict, rule)
    assert d.reason
    assert d.reason.endswith(".")


def test_ticket_router_second_route_in_a_run_is_rate_limited() -> None:
    spec = parse_spec(TICKET_ROUTER)
    s = fresh()
    first = make_call("route_ticket", ticket_id="T-9", queue="billing")
    assert decide(spec, first, s).allowed
    s.note_attempt(first)
    s.note_allowed(first, side_effects=True)
    second = make_call("route_ticket", ticket_id="T-9", queue="technical")
    d = decide(spec, second, s)
    assert (d.verdict, d.rule) == (Verdict.DENY, "rate_limit")


# --- unknown tools -------------------------------------------------------------------------


def test_unknown_tool_is_denied() -> None:
    d = decide(make_spec({"lookup": {"access": "read"}}), make_call("send_email"), fresh())
    assert d.verdict is Verdict.DENY
    assert d.rule == "unknown_tool"
    assert d.reason == "send_email is not listed in the agent's spec, so it may not be used."
    assert hits(d) == [("unknown_tool", Verdict.DENY, E)]
    assert d.would_have_denied is False


def test_unknown_tool_with_no_tools_at_all() -> None:
    d = decide(make_spec({}), make_call("anything"), fresh())
    assert (d.verdict, d.rule) == (Verdict.DENY, "unknown_tool")


def test_tool_names_are_case_sensitive() -> None:
    d = decide(make_spec({"lookup": {"access": "read"}}), make_call("Lookup"), fresh())
    assert (d.verdict, d.rule) == (Verdict.DENY, "unknown_tool")


def test_unknown_tool_advisory_allows_but_records() -> None:
    spec = make_spec({}, rules={"unknown_tool": "advisory"})
    d = decide(spec, make_call("send_email"), fresh())
    assert d.verdict is Verdict.ALLOW
    assert d.rule == "unknown_tool"
    assert d.would_have_denied is True
    assert hits(d) == [("unknown_tool", Verdict.DENY, A)]


def test_unknown_tool_stays_enforced_when_other_rules_are_advisory() -> None:
    spec = make_spec({}, rules={r: "advisory" for r in RULES if r != "unknown_tool"})
    d = decide(spec, make_call("send_email"), fresh())
    assert (d.verdict, d.rule) == (Verdict.DENY, "unknown_tool")


# --- combining rules -------------------------------------------------------------------------


def test_most_restrictive_enforced_verdict_wins() -> None:
    tools = {
        "refund": {
            "access": "approval",
            "arguments": {"amount": {"max": 100}},
            "approval_when": "amount > 10",
        }
    }
    d = decide(make_spec(tools), make_call("refund", amount=500), fresh())
    assert d.verdict is Verdict.DENY
    assert d.rule == "argument_constraints"
    assert hits(d) == [
        ("access", Verdict.REQUIRE_APPROVAL, E),
        ("argument_constraints", Verdict.DENY, E),
        ("conditional_approval", Verdict.REQUIRE_APPROVAL, E),
    ]


def test_among_equal_verdicts_the_first_rule_in_order_decides() -> None:
    tools = {"refund": {"access": "approval", "approval_when": "amount > 10"}}
    d = decide(make_spec(tools), make_call("refund", amount=50), fresh())
    assert d.verdict is Verdict.REQUIRE_APPROVAL
    assert d.rule == "access"
    assert [h.rule for h in d.hits] == ["access", "conditional_approval"]


def test_advisory_deny_does_not_beat_enforced_approval() -> None:
    tools = {"refund": {"access": "write", "arguments": {"amount": {"max": 100}}}}
    spec = make_spec(
        {**tools, "refund": {**tools["refund"], "approval_when": "amount > 10"}},
        rules={"argument_constraints": "advisory"},
    )
    d = decide(spec, make_call("refund", amount=500), fresh())
    assert d.verdict is Verdict.REQUIRE_APPROVAL
    assert d.rule == "conditional_approval"
    assert d.would_have_denied is True
    assert hits(d) == [
        ("argument_constraints", Verdict.DENY, A),
        ("conditional_approval", Verdict.REQUIRE_APPROVAL, E),
    ]


def test_every_hit_is_recorded_in_evaluation_order() -> None:
    tools = {
        "send": {
            "access": "approval",
            "egress": True,
            "arguments": {"to": {"allow": ["*@example.com"]}},
            "provenance": ["to"],
            "rate_limit": {"per_run": 0},
            "approval_when": "true",
        }
    }
    s = fresh("hello")
    s.note_result("web", "x", untrusted=True)
    s.write_calls = 5
    c = make_call("send", to="eve@evil.test")
    for _ in range(10):
        s.note_attempt(c)
    d = decide(make_spec(tools, max_write_calls_per_run=1), c, s)
    assert [h.rule for h in d.hits] == [name for name, _ in RULE_CHECKS]
    assert d.verdict is Verdict.DENY
    assert d.rule == "argument_constraints"  # first deny in order


# --- global advisory mode -------------------------------------------------------------------


def test_global_advisory_mode_allows_and_records_everything() -> None:
    tools = {"refund": {"access": "blocked", "arguments": {"amount": {"max": 10}}}}
    spec = make_spec(tools, mode="advisory")
    d = decide(spec, make_call("refund", amount=50), fresh())
    assert d.verdict is Verdict.ALLOW
    assert d.rule == "access"
    assert d.would_have_denied is True
    assert hits(d) == [
        ("access", Verdict.DENY, A),
        ("argument_constraints", Verdict.DENY, A),
    ]


def test_global_advisory_mode_covers_unknown_tools() -> None:
    d = decide(make_spec({}, mode="advisory"), make_call("ghost"), fresh())
    assert d.verdict is Verdict.ALLOW
    assert d.rule == "unknown_tool"
    assert d.would_have_denied is True


def test_global_advisory_with_a_rule_enforced() -> None:
    tools = {"refund": {"access": "blocked", "arguments": {"amount": {"max": 10}}}}
    spec = make_spec(tools, mode="advisory", rules={"argument_constraints": "enforce"})
    d = decide(spec, make_call("refund", amount=50), fresh())
    assert d.verdict is Verdict.DENY
    assert d.rule == "argument_constraints"
    assert hits(d) == [
        ("access", Verdict.DENY, A),
        ("argument_constraints", Verdict.DENY, E),
    ]
    # Within limits, only the advisory access hit remains: allowed, would have denied.
    d = decide(spec, make_call("refund", amount=5), fresh())
    assert d.verdict is Verdict.ALLOW
    assert d.would_have_denied is True


def test_advisory_mode_without_hits_is_a_plain_allow() -> None:
    d = decide(
        make_spec({"lookup": {"access": "read"}}, mode="advisory"), make_call("lookup"), fresh()
    )
    assert d.verdict is Verdict.ALLOW
    assert d.hits == ()
    assert d.would_have_denied is False


# --- purity -----------------------------------------------------------------------------------


def test_decide_does_not_modify_the_state() -> None:
    tools = {
        "send": {
            "access": "write",
            "egress": True,
            "provenance": ["to"],
            "rate_limit": {"per_run": 5},
        },
    }
    s = fresh("mail ann@example.com")
    s.note_result("web", "x", untrusted=True)
    s.note_attempt(make_call("send", to="ann@example.com"))
    before = copy.deepcopy(s)
    for to in ("ann@example.com", "eve@evil.test"):
        decide(make_spec(tools, max_write_calls_per_run=3), make_call("send", to=to), s)
    assert s == before


def test_decide_is_deterministic() -> None:
    spec = parse_spec(TICKET_ROUTER)
    c = make_call("route_ticket", ticket_id="T-1", queue="general")
    assert decide(spec, c, fresh()) == decide(spec, c, fresh())
