"""Tests for warden.core.spec_loader: every problem with its file, line and dotted path."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml

from warden.core.spec import Access, AgentSpec, FlowAction, RuleMode
from warden.core.spec_loader import (
    MAX_SPEC_BYTES,
    MAX_SPEC_DEPTH,
    MAX_SPEC_NODES,
    load_spec,
    parse_spec,
)
from warden.errors import ConfigError, SpecError, SpecProblem, WardenError

# A complete, realistic spec: a support-ticket router.
TICKET_ROUTER = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: ticket-router
      version: "1.4.0"
      owner: alice@example.com
      backup_owner: bob@example.com
      runbook: https://runbooks.example.com/ticket-router
      description: Routes incoming support tickets to the right queue.
    spec:
      scope: >
        Read a new support ticket, look up the customer, and route the ticket to the
        billing, technical or general queue. Escalate to a human when unsure.
      out_of_scope:
        - Issuing refunds or credits
        - Replying to the customer
      tools:
        lookup_customer:
          access: read
          description: Fetch the customer record by id.
          arguments:
            customer_id:
              pattern: "C-[0-9]{6}"
              required: true
          timeout_s: 5
        route_ticket:
          access: write
          idempotent: true
          arguments:
            ticket_id:
              pattern: "T-[0-9]+"
              required: true
            queue:
              enum: [billing, technical, general]
              required: true
            note:
              max_length: 500
          rate_limit:
            per_run: 1
            per_minute: 60
        issue_refund:
          access: blocked
          arguments:
            amount: {min: 0, max: 100}
          approval_when: "amount > 50"
        escalate_to_human:
          access: write
          arguments:
            reason:
              max_length: 1000
      budgets:
        per_run: {max_steps: 20, max_tool_calls: 10, max_tokens: 50000, max_cost_usd: 0.5}
        per_day: {max_cost_usd: 50, max_runs: 5000}
      escalation:
        queue: tier1-humans
        "on": [low_confidence, policy_denied, tool_failed]
        confidence_threshold: 0.7
      policy:
        mode: enforce
        rules:
          provenance: advisory
        untrusted_egress: deny
        max_write_calls_per_run: 3
      slos:
        - {name: routing-success, metric: success_rate, objective: 0.95}
      kill_criteria:
        - {metric: error_rate, threshold: 0.1, window_s: 3600, min_samples: 50, action: pause}
      rollout:
        shadow: {min_runs: 200, min_agreement: 0.9}
        canary: {min_runs: 500, traffic: 0.1, clean_days: 7}
      review: {sample_rate: 0.05, queue: tier1-review}
      oncall:
        channels:
          - {type: pagerduty, target: R0UT1NGKEY}
    """
)

# The smallest valid spec, used as a base for single-mistake documents.
MINIMAL = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: tiny
      version: "1"
      owner: alice
      backup_owner: bob
      runbook: docs/runbook.md
    spec:
      scope: Does one thing.
    """
)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the nth line containing ``needle`` (fails if absent)."""
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) >= nth, f"{needle!r} not found {nth} time(s) in the document"
    return found[nth - 1]


def problems_of(text: str, file: str = "agent.yaml") -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, file=file)
    return info.value.problems


def with_tools(tools_yaml: str) -> str:
    """MINIMAL plus a ``tools:`` block (given at two-space indentation under spec)."""
    return MINIMAL + "  tools:\n" + textwrap.indent(textwrap.dedent(tools_yaml), "    ")


# --- a valid spec -------------------------------------------------------------------------


def test_ticket_router_loads_with_every_field() -> None:
    spec = parse_spec(TICKET_ROUTER, file="ticket-router.yaml")

    assert isinstance(spec, AgentSpec)
    assert spec.api_version == "warden/v1"
    assert spec.kind == "Agent"
    assert spec.name == "ticket-router"
    assert spec.metadata.version == "1.4.0"
    assert spec.metadata.owner == "alice@example.com"
    assert spec.metadata.backup_owner == "bob@example.com"
    assert set(spec.spec.tools) == {
        "lookup_customer",
        "route_ticket",
        "issue_refund",
        "escalate_to_human",
    }

    lookup = spec.tool("lookup_customer")
    assert lookup is not None
    assert lookup.access is Access.READ
    assert lookup.arguments["customer_id"].pattern == "C-[0-9]{6}"
    assert lookup.arguments["customer_id"].required is True
    assert lookup.timeout_s == 5.0
    assert lookup.retryable is True
    assert lookup.has_side_effects is False

    route = spec.tool("route_ticket")
    assert route is not None
    assert route.access is Access.WRITE
    assert route.idempotent is True
    assert route.arguments["queue"].enum == ["billing", "technical", "general"]
    assert route.arguments["note"].max_length == 500
    assert route.rate_limit is not None
    assert route.rate_limit.per_run == 1
    assert route.rate_limit.per_minute == 60
    assert route.has_side_effects is True
    assert route.retryable is True

    refund = spec.tool("issue_refund")
    assert refund is not None
    assert refund.access is Access.BLOCKED
    assert refund.approval_when == "amount > 50"

    escalate = spec.tool("escalate_to_human")
    assert escalate is not None
    assert escalate.access is Access.WRITE
    assert escalate.idempotent is False
    assert escalate.retryable is False

    assert spec.tool("send_email") is None

    assert spec.spec.budgets.per_run.max_steps == 20
    assert spec.spec.budgets.per_day.max_runs == 5000
    assert spec.spec.budgets.is_set is True
    assert spec.spec.escalation is not None
    assert spec.spec.escalation.queue == "tier1-humans"
    assert spec.spec.escalation.confidence_threshold == 0.7
    assert spec.spec.policy.mode is RuleMode.ENFORCE
    assert spec.spec.policy.mode_of("provenance") is RuleMode.ADVISORY
    assert spec.spec.policy.mode_of("access") is RuleMode.ENFORCE
    assert spec.spec.policy.untrusted_egress is FlowAction.DENY
    assert spec.spec.policy.max_write_calls_per_run == 3
    assert spec.spec.slos[0].metric == "success_rate"
    assert spec.spec.kill_criteria[0].action == "pause"
    assert spec.spec.rollout is not None
    assert spec.spec.rollout.canary is not None
    assert spec.spec.rollout.canary.traffic == 0.1
    assert spec.spec.review is not None
    assert spec.spec.review.queue == "tier1-review"
    assert spec.spec.oncall is not None
    assert spec.spec.oncall.channels[0].type == "pagerduty"
    assert "billing, technical or general queue" in spec.spec.scope


def test_escalation_on_can_be_written_unquoted() -> None:
    text = MINIMAL + "  escalation:\n    queue: tier1-humans\n    on: [policy_denied]\n"
    spec = parse_spec(text)
    assert spec.spec.escalation is not None
    assert [t.value for t in spec.spec.escalation.on] == ["policy_denied"]


def test_escalation_on_quoted_key_loads() -> None:
    text = MINIMAL + '  escalation:\n    queue: tier1-humans\n    "on": [policy_denied]\n'
    spec = parse_spec(text)
    assert spec.spec.escalation is not None
    assert [t.value for t in spec.spec.escalation.on] == ["policy_denied"]


def test_minimal_spec_loads_with_defaults() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.name == "tiny"
    assert spec.spec.tools == {}
    assert spec.spec.budgets.is_set is False
    assert spec.spec.escalation is None
    assert spec.spec.policy.mode is RuleMode.ENFORCE


def test_load_spec_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "ticket-router.yaml"
    path.write_text(TICKET_ROUTER, encoding="utf-8")
    assert load_spec(path) == parse_spec(TICKET_ROUTER)
    assert load_spec(str(path)).name == "ticket-router"


# --- content hash -------------------------------------------------------------------------


def test_content_hash_is_stable_and_hex() -> None:
    a = parse_spec(TICKET_ROUTER)
    b = parse_spec(TICKET_ROUTER)
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64
    int(a.content_hash(), 16)  # hex


def test_content_hash_ignores_comments_layout_and_key_order() -> None:
    base = parse_spec(MINIMAL)
    reordered = textwrap.dedent(
        """\
        # a comment that does not change the spec
        kind: Agent
        spec: {scope: Does one thing.}
        metadata:
          runbook: docs/runbook.md
          backup_owner: bob
          owner: alice
          version: "1"
          name: tiny
        apiVersion: warden/v1
        """
    )
    assert parse_spec(reordered).content_hash() == base.content_hash()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("enum: [billing, technical, general]", "enum: [billing, technical]"),
        ("access: blocked", "access: approval"),
        ('version: "1.4.0"', 'version: "1.4.1"'),
        ("per_run: 1\n", "per_run: 2\n"),
        ("provenance: advisory", "provenance: enforce"),
    ],
)
def test_content_hash_changes_when_a_field_changes(old: str, new: str) -> None:
    assert TICKET_ROUTER.count(old) == 1
    changed = TICKET_ROUTER.replace(old, new)
    assert parse_spec(changed).content_hash() != parse_spec(TICKET_ROUTER).content_hash()


def test_canonical_json_uses_the_alias_and_sorted_keys() -> None:
    text = parse_spec(MINIMAL).canonical_json()
    assert '"apiVersion":"warden/v1"' in text
    assert "api_version" not in text
    assert " " not in text.replace("Does one thing.", "")


# --- several mistakes at once -------------------------------------------------------------

THREE_MISTAKES = textwrap.dedent(
    """\
    apiVersion: warden/v1
    kind: Agent
    metadata:
      name: ticket-router
      version: "1.0"
      backup_owner: bob
      runbook: docs/runbook.md
    spec:
      scope: Route tickets.
      tools:
        route_ticket:
          access: sometimes
          descripton: Moves a ticket.
    """
)


def test_three_mistakes_yield_exactly_three_problems_with_lines_and_paths() -> None:
    problems = problems_of(THREE_MISTAKES, file="router.yaml")

    assert len(problems) == 3
    got = {(p.line, p.path) for p in problems}
    assert got == {
        (3, "metadata.owner"),  # missing: points at the mapping that should hold it
        (12, "spec.tools.route_ticket.access"),
        (13, "spec.tools.route_ticket.descripton"),
    }
    by_path = {p.path: p for p in problems}
    assert by_path["metadata.owner"].message == "required field is missing"
    assert "unknown field" in by_path["spec.tools.route_ticket.descripton"].message
    assert "read" in by_path["spec.tools.route_ticket.access"].message
    assert all(p.file == "router.yaml" for p in problems)
    # Problems come sorted by line.
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_spec_error_message_lists_every_problem_as_file_line_path() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(THREE_MISTAKES, file="router.yaml")
    err = info.value
    lines = str(err).splitlines()
    assert len(lines) == 3
    assert "router.yaml:3: metadata.owner: required field is missing" in lines
    assert any(
        line.startswith("router.yaml:12: spec.tools.route_ticket.access: ") for line in lines
    )
    assert isinstance(err, ConfigError)
    assert isinstance(err, WardenError)
    assert err.code == "spec.invalid"
    as_dict = err.to_dict()
    assert as_dict["code"] == "spec.invalid"
    assert as_dict["message"] == "3 problem(s) in the agent spec"
    assert {"file": "router.yaml", "line": 3, "path": "metadata.owner"}.items() <= as_dict[
        "problems"
    ][0].items()


def test_unknown_top_level_key_is_an_error() -> None:
    text = MINIMAL + "extra: 1\n"
    (problem,) = problems_of(text)
    assert problem.path == "extra"
    assert problem.line == line_of(text, "extra: 1")
    assert problem.message == "unknown field (not part of warden/v1)"


def test_unknown_key_in_nested_model_is_an_error() -> None:
    text = MINIMAL + "  budgets:\n    per_run:\n      max_stepz: 3\n"
    (problem,) = problems_of(text)
    assert problem.path == "spec.budgets.per_run.max_stepz"
    assert problem.line == 13


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("apiVersion: warden/v1", "apiVersion: warden/v2", "apiVersion"),
        ("kind: Agent", "kind: Tool", "kind"),
        ("name: tiny", "name: Not A Name", "metadata.name"),
        ("scope: Does one thing.", 'scope: ""', "spec.scope"),
    ],
)
def test_bad_header_values_point_at_their_line(old: str, new: str, path: str) -> None:
    text = MINIMAL.replace(old, new)
    (problem,) = problems_of(text)
    assert problem.path == path
    assert problem.line == line_of(text, new)


def test_missing_api_version_is_reported_under_its_alias() -> None:
    text = MINIMAL.replace("apiVersion: warden/v1\n", "")
    (problem,) = problems_of(text)
    assert problem.path == "apiVersion"
    assert problem.message == "required field is missing"


# --- duplicate keys -----------------------------------------------------------------------


def test_duplicate_key_is_reported_with_its_line_and_the_first_line() -> None:
    text = with_tools(
        """\
        lookup:
          access: read
          access: write
        """
    )
    (problem,) = problems_of(text)
    first = line_of(text, "access: read")
    second = line_of(text, "access: write")
    assert problem.line == second
    assert problem.path == "spec.tools.lookup.access"
    assert problem.message == f"duplicate key (first defined on line {first})"


def test_duplicate_top_level_key_is_reported() -> None:
    text = MINIMAL + "kind: Agent\n"
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [(11, "kind")]
    assert "first defined on line 2" in problems[0].message


def test_duplicate_key_and_validation_problem_are_both_reported() -> None:
    text = with_tools(
        """\
        lookup:
          access: read
        lookup:
          access: never
        """
    )
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (line_of(text, "lookup:", 2), "spec.tools.lookup"),
        (line_of(text, "access: never"), "spec.tools.lookup.access"),
    ]


# --- documents that are not a spec at all -------------------------------------------------


def test_invalid_yaml_reports_the_line() -> None:
    text = MINIMAL.replace("  owner: alice", "  owner: alice: bob")
    (problem,) = problems_of(text)
    assert problem.path == "(yaml)"
    assert problem.line == line_of(text, "owner: alice: bob")
    assert problem.message.startswith("not valid YAML: ")


def test_unclosed_flow_sequence_reports_a_line() -> None:
    text = MINIMAL + "  out_of_scope: [refunds, replies\n"
    (problem,) = problems_of(text)
    assert problem.path == "(yaml)"
    assert problem.line >= 11


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_document_is_one_problem(text: str) -> None:
    (problem,) = problems_of(text, file="empty.yaml")
    assert problem == SpecProblem("empty.yaml", 1, "(document)", "the file is empty")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_document_is_rejected(text: str) -> None:
    (problem,) = problems_of(text)
    assert problem.line == 1
    assert problem.path == "(document)"
    assert "mapping" in problem.message


def test_two_documents_are_rejected() -> None:
    (problem,) = problems_of(MINIMAL + "---\n" + MINIMAL)
    assert problem.path == "(yaml)"
    assert problem.line == 11


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.problems == [SpecProblem(str(path), 0, "(file)", "no such file")]


def test_unreadable_path_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)  # a directory
    (problem,) = info.value.problems
    assert problem.path == "(file)"
    assert problem.message.startswith("cannot read")


def test_non_utf8_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.replace("alice", "al\xefce").encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.problems[0].path == "(file)"


def test_load_spec_reports_the_given_file_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MINIMAL.replace("kind: Agent", "kind: Robot"), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert str(problem) == f"{path}:2: kind: {problem.message}"


# --- field validators ---------------------------------------------------------------------


def test_invalid_regex_pattern_is_reported_on_its_line() -> None:
    text = with_tools(
        """\
        lookup:
          access: read
          arguments:
            customer_id:
              pattern: "C-[0-9"
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools.lookup.arguments.customer_id.pattern"
    assert problem.line == line_of(text, 'pattern: "C-[0-9"')
    assert problem.message.startswith("pattern is not a valid regular expression")


def test_invalid_cel_approval_when_is_reported_on_its_line() -> None:
    text = with_tools(
        """\
        refund:
          access: write
          approval_when: "amount > "
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools.refund.approval_when"
    assert problem.line == line_of(text, "approval_when:")
    assert problem.message.startswith("approval_when is not a valid CEL expression")
    assert "\n" not in problem.message


def test_approval_when_that_is_not_a_condition_is_reported_on_its_line() -> None:
    text = with_tools(
        """\
        refund:
          access: write
          approval_when: '1 + 2'
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools.refund.approval_when"
    assert problem.line == line_of(text, "approval_when:")
    assert problem.message.startswith("approval_when must be true or false")
    assert "an int (3)" in problem.message


@pytest.mark.parametrize(
    ("yaml_text", "path", "message"),
    [
        (
            "  kill_criteria:\n    - {metric: error_rate, threshold: .nan}\n",
            "spec.kill_criteria[0].threshold",
            "Input should be a finite number",
        ),
        (
            "  budgets:\n    per_day: {max_cost_usd: .inf}\n",
            "spec.budgets.per_day.max_cost_usd",
            "Input should be a finite number",
        ),
        (
            "  budgets:\n    per_run: {max_steps: true}\n",
            "spec.budgets.per_run.max_steps",
            "Input should be a valid integer",
        ),
        (
            "  budgets:\n    per_run: {max_tokens: 1000.0}\n",
            "spec.budgets.per_run.max_tokens",
            "Input should be a valid integer",
        ),
    ],
    ids=["nan-threshold", "infinite-budget", "boolean-count", "decimal-count"],
)
def test_a_number_that_is_not_finite_or_not_whole_is_reported_on_its_line(
    yaml_text: str, path: str, message: str
) -> None:
    text = MINIMAL + yaml_text
    (problem,) = problems_of(text)
    assert problem.path == path
    assert problem.line == len(text.splitlines())
    assert problem.message.startswith(message)


def test_min_greater_than_max_is_rejected() -> None:
    text = with_tools(
        """\
        refund:
          access: write
          arguments:
            amount: {min: 100, max: 10}
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools.refund.arguments.amount"
    assert problem.line == line_of(text, "amount: {min: 100, max: 10}")
    assert problem.message == "min (100) is greater than max (10)"


def test_min_equal_to_max_is_accepted() -> None:
    text = with_tools(
        """\
        refund:
          access: write
          arguments:
            amount: {min: 10, max: 10}
        """
    )
    spec = parse_spec(text)
    assert spec.spec.tools["refund"].arguments["amount"].min == 10


def test_negative_max_length_is_rejected() -> None:
    text = with_tools(
        """\
        note:
          access: write
          arguments:
            body: {max_length: -1}
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools.note.arguments.body.max_length"
    assert problem.line == line_of(text, "max_length: -1")


def test_unknown_rule_name_in_policy_rules_is_rejected() -> None:
    text = (
        MINIMAL + "  policy:\n    rules:\n      provenance: advisory\n      no_such_rule: enforce\n"
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.policy.rules"
    assert problem.line == line_of(text, "rules:")
    assert "no_such_rule" in problem.message


def test_bad_rule_mode_is_rejected_on_its_line() -> None:
    text = MINIMAL + "  policy:\n    rules:\n      provenance: sometimes\n"
    (problem,) = problems_of(text)
    assert problem.path == "spec.policy.rules.provenance"
    assert problem.line == line_of(text, "provenance: sometimes")


def test_max_repeated_calls_below_two_is_rejected() -> None:
    text = MINIMAL + "  policy:\n    max_repeated_calls: 1\n"
    (problem,) = problems_of(text)
    assert problem.path == "spec.policy.max_repeated_calls"
    assert problem.line == 12


def test_provenance_naming_an_undeclared_argument_is_rejected() -> None:
    text = with_tools(
        """\
        send_email:
          access: write
          egress: true
          arguments:
            to: {max_length: 200}
          provenance: [to, cc]
        """
    )
    (problem,) = problems_of(text)
    assert "['cc']" in problem.message
    assert problem.path == "spec.tools.send_email.provenance"
    assert problem.line == line_of(text, "provenance: [to, cc]")


def test_provenance_problem_points_at_the_provenance_line() -> None:
    text = with_tools(
        """\
        send_email:
          access: write
          arguments:
            to: {max_length: 200}
          provenance: [to, cc]
        """
    )
    (problem,) = problems_of(text)
    assert problem.line == line_of(text, "provenance: [to, cc]")
    assert problem.path == "spec.tools.send_email.provenance"


def test_provenance_without_declared_arguments_is_accepted() -> None:
    text = with_tools(
        """\
        send_email:
          access: write
          provenance: [to]
        """
    )
    assert parse_spec(text).spec.tools["send_email"].provenance == ["to"]


def test_bad_tool_name_is_rejected() -> None:
    text = with_tools(
        """\
        "send email":
          access: write
        """
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.tools"
    assert "send email" in problem.message


def test_every_argument_problem_in_one_tool_is_reported() -> None:
    text = with_tools(
        """\
        refund:
          access: write
          approval_when: "amount >"
          arguments:
            amount: {min: 5, max: 1}
            account: {pattern: "[a-"}
            reason: {max_lenght: 3}
        """
    )
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (line_of(text, "approval_when"), "spec.tools.refund.approval_when"),
        (line_of(text, "amount: {min"), "spec.tools.refund.arguments.amount"),
        (line_of(text, "account:"), "spec.tools.refund.arguments.account.pattern"),
        (line_of(text, "reason:"), "spec.tools.refund.arguments.reason.max_lenght"),
    ]


def test_list_items_are_located_by_index() -> None:
    text = MINIMAL + (
        "  slos:\n"
        "    - {name: ok, metric: success_rate, objective: 0.9}\n"
        "    - {name: bad, metric: happiness, objective: 0.9}\n"
    )
    (problem,) = problems_of(text)
    assert problem.path == "spec.slos[1].metric"
    assert problem.line == line_of(text, "metric: happiness")


# --- YAML features that must never escape as anything but SpecError ------------------------


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("!secret refunds", "could not determine a constructor for the tag '!secret'"),
        ("!!python/name:os.system", "python/name:os.system"),
        ("!!int abc", "invalid literal for int()"),
    ],
)
def test_unreadable_tagged_value_is_a_spec_problem_on_its_line(value: str, detail: str) -> None:
    text = MINIMAL + f"  out_of_scope: {value}\n"
    problems = problems_of(text)
    first = problems[0]
    assert first.line == 11
    assert first.path == "spec.out_of_scope"
    assert first.message.startswith("cannot read this value: ")
    assert detail in first.message
    assert {(p.line, p.path) for p in problems} == {(11, "spec.out_of_scope")}


def test_unreadable_value_is_one_problem() -> None:
    problems = problems_of(MINIMAL + "  out_of_scope: !secret refunds\n")
    assert len(problems) == 1


def test_recursive_alias_is_a_spec_error() -> None:
    text = MINIMAL + "  out_of_scope: &loop [*loop]\n"
    problems = problems_of(text)
    assert problems[0].line == 11
    assert problems[0].path == "spec.out_of_scope[0]"
    assert problems[0].message == "recursive YAML alias"


def test_recursive_mapping_alias_is_a_spec_error() -> None:
    text = with_tools(
        """\
        lookup: &loop
          access: read
          nested: *loop
        """
    )
    problems = problems_of(text)
    assert any(p.message == "recursive YAML alias" for p in problems)
    assert all(p.line > 0 for p in problems)


def test_yaml_1_1_booleans_stay_booleans_as_values() -> None:
    text = with_tools(
        """\
        lookup:
          access: read
          idempotent: yes
          egress: off
        """
    )
    tool = parse_spec(text).spec.tools["lookup"]
    assert tool.idempotent is True
    assert tool.egress is False


def test_yaml_merge_key_is_supported() -> None:
    text = with_tools(
        """\
        lookup: &base
          access: read
          timeout_s: 5
        lookup_write:
          <<: *base
          access: write
        """
    )
    tool = parse_spec(text).spec.tools["lookup_write"]
    assert tool.access is Access.WRITE
    assert tool.timeout_s == 5


def test_aliases_are_followed() -> None:
    text = with_tools(
        """\
        lookup: &readonly
          access: read
        lookup_again: *readonly
        """
    )
    spec = parse_spec(text)
    assert spec.spec.tools["lookup_again"].access is Access.READ


def test_one_bad_enum_item_is_one_problem_with_a_clean_path() -> None:
    text = with_tools(
        """\
        t:
          access: read
          arguments:
            q:
              enum: [{a: 1}]
        """
    )
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].path == "spec.tools.t.arguments.q.enum[0]"
    assert problems[0].line == line_of(text, "enum:")


def test_bad_enum_item_is_reported_on_its_line() -> None:
    text = with_tools(
        """\
        t:
          access: read
          arguments:
            q:
              enum: [{a: 1}]
        """
    )
    problems = problems_of(text)
    assert problems
    assert {p.line for p in problems} == {line_of(text, "enum:")}
    assert all(p.path.startswith("spec.tools.t.arguments.q.enum[0]") for p in problems)


# --- limits: a spec is a page, so bad input is refused fast ----------------------------------

EXAMPLES = [
    Path(__file__).parents[2] / "examples" / "ticket_router" / "agent.yaml",
    *sorted((Path(__file__).parents[2] / "examples" / "agentdojo").glob("*.yaml")),
]


def alias_bomb(levels: int, width: int = 9) -> str:
    """An alias bomb ("billion laughs"): each anchor lists ``width`` aliases of the last."""
    lines = ["  out_of_scope:", "    - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"    - &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return MINIMAL + "\n".join(lines) + "\n"


def refused_fast(text: str) -> SpecProblem:
    """The one problem ``parse_spec`` reports for ``text``, found in under a second (of CPU
    time: a busy machine slows the wall clock, not the work)."""
    started = time.process_time()
    problems = problems_of(text)
    elapsed = time.process_time() - started
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert len(problems) == 1, problems
    return problems[0]


def test_an_alias_bomb_is_refused_fast_on_its_line() -> None:
    # 9**6 = 531,441 strings once expanded: seconds of work and memory before the limit
    text = alias_bomb(6)
    problem = refused_fast(text)
    assert problem.file == "agent.yaml"
    assert "more than 10,000 values" in problem.message
    assert "aliases" in problem.message
    assert line_of(text, "&a0") <= problem.line <= line_of(text, "&a5")
    assert problem.path.startswith("spec.out_of_scope[")


def test_aliases_within_the_limit_still_load() -> None:
    queues = ", ".join(f"q{i}" for i in range(100))
    tools = [f"t0: &t0 {{access: write, arguments: {{queue: {{enum: [{queues}]}}}}}}"]
    tools += [f"t{i}: *t0" for i in range(1, 60)]  # about 6,000 values once expanded
    spec = parse_spec(with_tools("\n".join(tools) + "\n"))
    assert len(spec.spec.tools) == 60
    assert spec.spec.tools["t59"].arguments["queue"].enum == [f"q{i}" for i in range(100)]


@pytest.mark.parametrize(
    ("opening", "closing", "depth"),
    [("[", "]", 100_000), ("{a: ", "}", 50_000)],  # each about 200 KB, under 256 KiB
    ids=["lists", "mappings"],
)
def test_deep_nesting_is_refused_on_its_line_not_with_a_traceback(
    opening: str, closing: str, depth: int
) -> None:
    text = MINIMAL + "  out_of_scope: " + opening * depth + "1" + closing * depth + "\n"
    problem = refused_fast(text)
    assert problem.line == line_of(text, "out_of_scope:")
    assert problem.message.startswith("nested more than 64 levels deep")


def test_nesting_at_the_limit_is_only_a_validation_problem() -> None:
    # 64 levels in all: the document's mapping, spec's mapping and 62 lists
    text = MINIMAL + "  out_of_scope: " + "[" * 62 + "]" * 62 + "\n"
    problem = refused_fast(text)
    assert "levels deep" not in problem.message  # a list of lists is not a list of strings
    deeper = MINIMAL + "  out_of_scope: " + "[" * 63 + "]" * 63 + "\n"
    assert refused_fast(deeper).message.startswith("nested more than 64 levels deep")


def test_aliases_cannot_nest_past_the_depth_limit() -> None:
    # each anchor is shallow; following the aliases nests 70 levels
    lines = ["  out_of_scope:", "    - &d0 [x]"]
    lines += [f"    - &d{i} [*d{i - 1}]" for i in range(1, 70)]
    problem = refused_fast(MINIMAL + "\n".join(lines) + "\n")
    assert problem.message.startswith("nested more than 64 levels deep")
    assert problem.path.startswith("spec.out_of_scope[")


def test_too_many_values_are_refused_without_aliases() -> None:
    text = MINIMAL + "  out_of_scope: [" + ", ".join(["x"] * 20_000) + "]\n"
    problem = refused_fast(text)
    assert "more than 10,000 values" in problem.message
    assert problem.line == line_of(text, "out_of_scope:")


def test_a_spec_larger_than_256_kib_is_refused_on_the_line_that_passes_the_limit() -> None:
    padding = "".join(f"# {i:07d} {'x' * 90}\n" for i in range(3_000))  # 300 KB of comments
    text = MINIMAL + padding
    problem = refused_fast(text)
    assert problem.path == "(file)"
    assert "larger than 256 KiB" in problem.message
    assert problem.line == 1 + text.encode().count(b"\n", 0, 256 * 1024)


def test_a_file_larger_than_256_kib_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(MINIMAL + "  out_of_scope:\n")
        fh.writelines(f"    - item {i:08d} with some padding text\n" for i in range(80_000))
    started = time.process_time()
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert time.process_time() - started < 1.0
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.path == "(file)"
    assert "larger than 256 KiB" in problem.message
    assert problem.line > 1


def test_a_spec_of_exactly_the_size_limit_is_read() -> None:
    text = MINIMAL + "#" * (256 * 1024 - len(MINIMAL.encode()) - 1) + "\n"
    assert len(text.encode()) == 256 * 1024
    assert parse_spec(text).metadata.name == "tiny"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_example_specs_are_far_inside_the_limits(path: Path) -> None:
    spec = load_spec(path)
    assert spec.api_version == "warden/v1"
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) * 20 < MAX_SPEC_BYTES
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    nodes, depth = _size(node)
    assert nodes * 20 < MAX_SPEC_NODES
    assert depth * 4 < MAX_SPEC_DEPTH


def _size(node: yaml.Node, depth: int = 1) -> tuple[int, int]:
    """Nodes (values and keys) and nesting depth of a composed YAML document."""
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    count, deepest = 1, depth
    for child in children:
        c, d = _size(child, depth + 1)
        count, deepest = count + c, max(deepest, d)
    return count, deepest


def test_the_limits_are_the_documented_ones() -> None:
    assert (MAX_SPEC_BYTES, MAX_SPEC_DEPTH, MAX_SPEC_NODES) == (256 * 1024, 64, 10_000)
