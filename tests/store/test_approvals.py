"""Approval requests on the database under test: one decision each, audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from warden.core.clock import FakeClock
from warden.core.runs import ApprovalRequest, ApprovalStatus
from warden.errors import RunStateError
from warden.store import SqlStore


def test_approval_decisions_are_audited(store: SqlStore, clock: FakeClock) -> None:
    now = clock.now()
    store.create_approval(
        ApprovalRequest(
            id="apr_1",
            run_id="r1",
            agent="a",
            seq=1,
            tool="refund",
            arguments={"amount": 250},
            args_hash="h",
            rule="conditional_approval",
            reason="amount > 100",
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    store.decide_approval(
        "apr_1", status=ApprovalStatus.DENIED, actor="ops", reason="fraud", at=now
    )
    with pytest.raises(RunStateError):  # a refused decision leaves no entry
        store.decide_approval("apr_1", status=ApprovalStatus.APPROVED, actor="x", reason="", at=now)
    [entry] = store.list_audit(agent="a")
    assert (entry.action, entry.subject, entry.actor, entry.reason) == (
        "approval.denied",
        "apr_1",
        "ops",
        "fraud",
    )
    assert json.loads(entry.before)["status"] == "pending"
    assert json.loads(entry.after)["status"] == "denied"
