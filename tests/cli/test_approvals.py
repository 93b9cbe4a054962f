"""``warden approvals list|approve|deny``."""

from __future__ import annotations

import json
from datetime import timedelta

from warden.core.clock import SystemClock
from warden.core.runs import ApprovalRequest, ApprovalStatus


def test_approvals_approve_and_deny(cli, store) -> None:
    now = SystemClock().now()
    for i in (1, 2):
        store.create_approval(
            ApprovalRequest(
                id=f"apr_{i}",
                run_id="r",
                agent="a",
                seq=i,
                tool="issue_refund",
                arguments={"amount": 100 * i},
                args_hash=f"h{i}",
                rule="conditional_approval",
                reason="needs approval",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    listed = json.loads(cli("approvals", "list", "--json").stdout)
    assert [a["id"] for a in listed] == ["apr_1", "apr_2"]
    assert cli("approvals", "approve", "apr_1").exit_code == 0
    denied = cli("approvals", "deny", "apr_2", "--reason", "fraud", "--json")
    assert json.loads(denied.stdout)["status"] == "denied"
    assert store.get_approval("apr_1").status is ApprovalStatus.APPROVED
    assert store.get_approval("apr_1").decided_by == "oncall-dana"
    twice = cli("approvals", "deny", "apr_1", "--reason", "too late")
    assert twice.exit_code == 1
    assert "already approved" in twice.output
    assert json.loads(cli("approvals", "list", "--json").stdout) == []
