"""Input validation: arguments are replaced with the validated, coerced ones before the
policy sees them; invalid arguments never go further and the call is marked invalid."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from tests.runtime.chain.fakes import FakeRun, RecordingProceed, call_context
from warden.core.runs import ToolCallStatus
from warden.errors import ToolInputError
from warden.runtime.chain import InputValidation

SPEC = make_spec({"issue_refund": {"access": "write"}, "lookup": {"access": "read"}})


def issue_refund(amount: float, note: str = "") -> str:
    raise AssertionError("input validation never runs the tool")


def test_arguments_are_replaced_with_validated_ones(proceed: RecordingProceed) -> None:
    ctx = call_context(FakeRun(SPEC), "issue_refund", {"amount": "250"}, fn=issue_refund, seq=4)
    before = ctx.call
    InputValidation()(ctx, proceed)
    (seen,) = proceed.calls
    assert seen.call.arguments == {"amount": 250.0, "note": ""}  # coerced, default filled
    assert (seen.call.agent, seen.call.run_id, seen.call.tool, seen.call.seq) == (
        before.agent,
        before.run_id,
        before.tool,
        4,
    )
    assert seen.call.args_hash != before.args_hash


def test_equal_arguments_after_coercion_hash_alike(proceed: RecordingProceed) -> None:
    # An approval is bound to the hash of the validated arguments: "250" and 250 are one call.
    run = FakeRun(SPEC)
    for raw in ({"amount": "250"}, {"amount": 250}, {"amount": 250.0, "note": ""}):
        InputValidation()(call_context(run, "issue_refund", raw, fn=issue_refund), proceed)
    assert len({c.call.args_hash for c in proceed.calls}) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {},  # missing
        {"amount": 1, "extra": True},  # unknown
        {"amount": "lots"},  # wrong type
    ],
)
def test_invalid_arguments_are_never_passed_on(
    proceed: RecordingProceed, arguments: dict[str, object]
) -> None:
    ctx = call_context(FakeRun(SPEC), "issue_refund", arguments, fn=issue_refund)
    before = ctx.call
    with pytest.raises(ToolInputError, match="issue_refund: invalid arguments"):
        InputValidation()(ctx, proceed)
    assert not proceed.called
    assert ctx.status is ToolCallStatus.INVALID
    assert ctx.call is before


def test_a_tool_with_no_function_keeps_its_raw_arguments(proceed: RecordingProceed) -> None:
    # The policy decides about it (an unknown tool is denied); execution reports it missing.
    ctx = call_context(FakeRun(SPEC), "delete_everything", {"anything": ["goes"]})
    before = ctx.call
    InputValidation()(ctx, proceed)
    assert proceed.calls == [ctx]
    assert ctx.call is before
