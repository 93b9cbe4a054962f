"""Argument constraints that mean what they say: allow-list globs that cannot be stretched
across addresses, and ``pattern`` regexes on a linear-time engine, checked when the spec loads.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.policy.helpers import fresh, make_call, make_spec
from warden.core.decisions import Decision, Verdict
from warden.core.spec import ArgumentConstraint
from warden.core.spec_loader import parse_spec
from warden.errors import SpecError
from warden.policy import decide
from warden.policy.constraints import violations


def allow(patterns: list[str], value: Any) -> bool:
    """True when ``value`` passes an allow-list of ``patterns`` (no other constraint)."""
    return not violations("cc", True, value, ArgumentConstraint(allow=patterns))


def full_match(pattern: str, value: Any) -> bool:
    return not violations("id", True, value, ArgumentConstraint(pattern=pattern))


# --- allow-lists: globs whose wildcards stay inside one address part ------------------------


@pytest.mark.parametrize(
    "value",
    [
        "attacker@evil.com,bob@example.com",  # two addresses
        "attacker@evil.com#@example.com",  # `*` swallowing an `@`
        "attacker@evil.com (x@example.com",  # a comment hiding the real address
        "attacker@evil.com bob@example.com",
        "attacker@evil.com;bob@example.com",
        "attacker@evil.com\n@example.com",
        "attacker@evil.com/@example.com",
        "Mallory <attacker@evil.com>, bob@example.com",
    ],
)
def test_allow_list_star_does_not_cross_at_comma_slash_or_whitespace(value: str) -> None:
    assert not allow(["*@example.com"], value)
    d = decide(
        make_spec({"send": {"access": "write", "arguments": {"to": {"allow": ["*@example.com"]}}}}),
        make_call("send", to=value),
        fresh(),
    )
    assert d.verdict is Verdict.DENY
    assert d.rule == "argument_constraints"
    assert "is not on the allow-list" in d.reason


@pytest.mark.parametrize(
    "value",
    [
        "<bob@example.com>",  # the glob's `*` would take "<bob", the parser reads bob@...
        "bob(x@evil.com)@example.com",
        "bob(comment)@example.com",  # a comment: not one bare address
        "bob@example.com\u2003",  # a non-ASCII space
    ],
)
def test_allow_list_email_must_parse_to_one_bare_address(value: str) -> None:
    assert not allow(["*@example.com", "*example.com>", "*@example.com?"], value)


@pytest.mark.parametrize(
    "value",
    ["(" * 10_000 + "bob@example.com", '"' * 10_000 + "@example.com", "a@" * 5_000],
)
def test_allow_list_adversarial_address_is_refused_quickly(value: str) -> None:
    t0 = time.perf_counter()
    assert not allow(["*@example.com", "*@*", "(*@example.com"], value)
    assert time.perf_counter() - t0 < 0.05


@pytest.mark.parametrize(
    ("patterns", "value"),
    [
        (["*@example.com"], "bob@example.com"),
        (["*@example.com"], "bob.smith+tag@example.com"),
        (["*@*.example.com"], "bob@mail.example.com"),
        (["*@example.com", "*@example.org"], ["a@example.com", "b@example.org"]),
        (["ticket-*"], "ticket-9"),
        (["x?y*"], "xay"),
        (["[ab]c"], "bc"),
        (["[!ab]c"], "cc"),
        (["*"], "anything-at.all_without:separators"),
        (["https://example.com/*"], "https://example.com/invoice?id=7"),
        (["https://example.com/*/*"], "https://example.com/a/b"),
        (["a[*]b"], "a*b"),
        (["file[.]txt"], "file.txt"),
        (["[unterminated"], "[unterminated"),
        (["*.csv"], "Q3_report.csv"),
    ],
)
def test_allow_list_keeps_glob_semantics_for_plain_values(
    patterns: list[str], value: str | list[str]
) -> None:
    assert allow(patterns, value)


@pytest.mark.parametrize(
    ("patterns", "value"),
    [
        (["*@example.com"], "a@EXAMPLE.COM"),  # case-sensitive, as before
        (["*@example.com"], "a@example.com.evil.test"),
        (["*@example.com"], "@example.com@evil.test"),
        (["https://example.com/*"], "https://example.com/a/b"),  # `*` stays in one segment
        (["https://example.com*"], "https://example.com@evil.test/"),
        (["https://example.com*"], "https://example.com.evil.test/x"),
        (["?"], "@"),
        (["?"], " "),
        (["[!ab]c"], "@c"),  # a negated class does not reach the separators either
        (["a*b"], "a\u00a0b"),
        (["ticket-*"], 9),
    ],
)
def test_allow_list_denies_values_outside_the_glob(patterns: list[str], value: Any) -> None:
    assert not allow(patterns, value)


def test_allow_list_glob_special_characters_in_values_are_literal() -> None:
    assert allow(["a.c"], "a.c")
    assert not allow(["a.c"], "abc")  # `.` is a literal dot, not a regex wildcard
    assert not allow(["a+"], "aa")
    assert allow(["(x)"], "(x)")
    assert allow(["caf\u00e9-*"], "caf\u00e9-1")


# --- pattern: RE2, linear time, checked at load ------------------------------------------------


def _decide_pattern(pattern: str, value: str) -> tuple[Decision, float]:
    spec = make_spec({"t": {"access": "read", "arguments": {"id": {"pattern": pattern}}}})
    call = make_call("t", id=value)
    t0 = time.perf_counter()
    d = decide(spec, call, fresh())
    return d, time.perf_counter() - t0


def test_catastrophic_pattern_decides_in_linear_time() -> None:
    # (a+)+$ backtracks exponentially in Python's ``re``: 22 characters took 0.7 s there,
    # doubling with each one. RE2 decides 10 kB in well under a millisecond; 50 ms is a
    # generous bound for a noisy, shared machine.
    for n in (22, 10_000):
        d, elapsed = _decide_pattern("(a+)+$", "a" * n + "!")
        assert d.verdict is Verdict.DENY
        assert d.rule == "argument_constraints"
        assert elapsed < 0.05, f"{n + 1} characters took {elapsed:.3f} s"
    d, elapsed = _decide_pattern("(a+)+$", "a" * 10_000)
    assert d.allowed
    assert elapsed < 0.05


def test_patterns_run_on_re2() -> None:
    from warden.policy.constraints import compiled_pattern

    assert type(compiled_pattern("T-[0-9]+")).__module__ == "re2"


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("T-[0-9]+", "T-42", True),
        ("T-[0-9]+", "T-42x", False),
        ("T-[0-9]+", "xT-42", False),
        ("^c-[0-9]{1,10}$", "c-42", True),
        ("^c-[0-9]{1,10}$", "c-42\n", False),  # `$` is the end of the text, not of a line
        ("(?i)ab", "AB", True),
        (r"\d+\.\d+", "1.5", True),
        ("a|ab", "ab", True),
        (".*", "", True),
        ("caf\u00e9", "caf\u00e9", True),
        ("[a-z]+", "\u00e9", False),
    ],
)
def test_patterns_are_full_matches(pattern: str, value: str, ok: bool) -> None:
    assert full_match(pattern, value) is ok


def test_unvalidated_pattern_fails_closed() -> None:
    rule = ArgumentConstraint.model_construct(pattern=r"(a)\1")  # skips the load-time check
    assert violations("id", True, "aa", rule) == ["id 'aa' does not have the required format."]


def test_text_without_a_utf8_form_is_refused_not_a_crash() -> None:
    assert not full_match(".*", "a\ud800")
    assert not allow(["*"], "a\ud800")


def test_reversed_and_empty_glob_classes_behave_like_fnmatch() -> None:
    assert not allow(["[z-a]x"], "ax")  # a reversed range is empty
    assert allow(["[!z-a]x"], "ax")
    assert allow(["[]a]"], "]")
    assert allow(["[a-]"], "-")


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (r"(a)\1", "backreference"),
        ("(?=a)a", "lookahead"),
        ("(?<=a)b", "lookbehind"),
        ("(?!a)b", "negative lookahead"),
        (r"(?P<x>a)(?P=x)", "named backreference"),
    ],
)
def test_pattern_re2_cannot_run_is_rejected_at_load(pattern: str, what: str) -> None:
    with pytest.raises(ValueError, match="pattern is not a valid regular expression"):
        ArgumentConstraint(pattern=pattern)


def test_pattern_rejected_at_load_names_the_field_and_line() -> None:
    text = """\
apiVersion: warden/v1
kind: Agent
metadata:
  name: support-bot
  version: "1"
  owner: alice
  backup_owner: bob
  runbook: docs/runbook.md
spec:
  scope: Support tickets.
  tools:
    lookup:
      access: read
      arguments:
        customer_id:
          pattern: "(c)-\\\\1"
"""
    with pytest.raises(SpecError) as info:
        parse_spec(text, file="agent.yaml")
    (problem,) = info.value.problems
    assert problem.path == "spec.tools.lookup.arguments.customer_id.pattern"
    assert problem.line == 16
    assert problem.message.startswith("pattern is not a valid regular expression")
    assert "RE2" in problem.message
    assert "backreferences" in problem.message
    assert str(problem).startswith(
        "agent.yaml:16: spec.tools.lookup.arguments.customer_id.pattern: pattern is not"
    )
