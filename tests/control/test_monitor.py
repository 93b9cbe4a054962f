"""``monitor_once``: kill criteria, escalation and auto-advance over every rollout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.pages_server import page_sink
from warden.control import gates
from warden.control.monitor import monitor_once
from warden.core.readiness import ReadinessFacts
from warden.core.rollout import Stage
from warden.integrations.pagers import HttpPager

TOOLS: dict[str, Any] = {
    "route_ticket": {"access": "write", "arguments": {"queue": {"max_length": 20}}}
}


def test_a_pass_trips_pages_escalates_and_auto_advances(
    make_governor, spec_factory, store, clock, monkeypatch
) -> None:
    with page_sink() as sink:
        spec = spec_factory(
            TOOLS,
            rollout={
                "auto_advance": True,
                "shadow": {"min_runs": 5, "min_days": 1, "min_agreement": 0.5},
            },
            kill_criteria=[
                {
                    "metric": "escalation_rate",
                    "threshold": 0.4,
                    "min_samples": 5,
                    "action": "page",
                    "mode": "enforce",
                }
            ],
            budgets={"per_run": {"max_steps": 5}},
            oncall={
                "channels": [{"type": "webhook", "target": f"{sink.url}/owner"}],
                "backup_channels": [{"type": "webhook", "target": f"{sink.url}/backup"}],
                "ack_timeout_s": 60,
            },
        )
        gov = make_governor(spec, kill_criteria_every_s=None)

        @gov.tool
        def route_ticket(ticket_id: str, queue: str) -> str:
            return "ok"

        for i in range(6):
            with gov.run(input=i, routing_key=f"k{i}") as run:
                run.call("route_ticket", ticket_id=f"t{i}", queue="q")
                if i % 2:
                    run.escalate("unsure")
                else:
                    run.resolve()
            gov.record_outcome(f"k{i}", "route_ticket")
        pager = HttpPager(sleep=lambda s: None)
        monkeypatch.setattr(
            gates,
            "readiness_facts",
            lambda store, spec, root=None, now=None: ReadinessFacts(
                runbook_found=True,
                test_page_delivered_at=clock.now(),
                test_paged_channels=[f"webhook {sink.url}/owner", f"webhook {sink.url}/backup"],
                last_drill_at=clock.now(),
                eval_cases=50,
                eval_passed=True,
            ),
        )
        first = monitor_once(store, clock, pager)
        assert [e.kind for e in first] == ["incident", "held"]
        assert len(sink.bodies("/owner")) == 1
        clock.advance(timedelta(days=1, minutes=2).total_seconds())
        second = monitor_once(store, clock, pager)
        assert [e.kind for e in second] == ["escalated", "advanced"]
        assert len(sink.bodies("/backup")) == 1
        assert store.get_rollout("test-agent").stage is Stage.CANARY
        assert store.list_rollout_transitions("test-agent")[-1].actor == "warden"
        assert [e.kind for e in monitor_once(store, clock, pager)] == ["held"]  # canary gate
