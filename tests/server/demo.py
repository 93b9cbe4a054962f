"""Demo data for the dashboard tests: three agents and two weeks of runs on a fake clock.

- ``ticket-router`` (the example spec): live, mostly resolved runs, some escalated, some
  blocked by a denied refund, one that failed, a retried lookup;
- ``refund-helper``: kill switch on, an open incident, a refund waiting for approval;
- ``faq-bot``: shadow runs with people's outcomes recorded, then advanced to canary.

Everything goes through the governor and the store methods the product uses; the one
exception is the run waiting for approval, written as records (a real wait would block).
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warden import PolicyDenied
from warden.control.rollout import change_stage
from warden.core.clock import FakeClock
from warden.core.decisions import Decision, RuleMode, Verdict
from warden.core.events import RunRecorded, ToolCallRecorded
from warden.core.incidents import Incident
from warden.core.rollout import RolloutAction
from warden.core.runs import ApprovalRequest, RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.core.spec import AgentSpec
from warden.core.spec_loader import load_spec
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.errors import RunRerouted
from warden.sdk import Warden
from warden.store import SqlStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ticket_router" / "agent.yaml"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAYS = 14

REFUND_SPEC: dict[str, Any] = {
    "apiVersion": "warden/v1",
    "kind": "Agent",
    "metadata": {
        "name": "refund-helper",
        "version": "0.3.0",
        "owner": "dana@example.com",
        "backup_owner": "erik@example.com",
        "runbook": "https://wiki.example.com/runbooks/refund-helper",
        "description": "Checks refund requests against the order and refunds small amounts.",
    },
    "spec": {
        "scope": "Check a customer's refund request against the order. Refund up to 100 "
        "dollars on its own; larger refunds need a person's approval. Never change an order.",
        "out_of_scope": ["changing or cancelling orders", "refunds over 500 dollars"],
        "tools": {
            "lookup_order": {"access": "read", "description": "Read the order."},
            "issue_refund": {
                "access": "write",
                "description": "Refund money to the customer's card.",
                "arguments": {"amount": {"min": 0, "max": 500, "required": True}},
                "approval_when": "amount > 100",
            },
            "cancel_order": {"access": "blocked", "description": "Cancel an order."},
        },
        "budgets": {"per_run": {"max_steps": 10, "max_cost_usd": 0.05}},
        "escalation": {"queue": "refunds-team"},
    },
}

FAQ_SPEC: dict[str, Any] = {
    "apiVersion": "warden/v1",
    "kind": "Agent",
    "metadata": {
        "name": "faq-bot",
        "version": "2.1.0",
        "owner": "farah@example.com",
        "backup_owner": "gus@example.com",
        "runbook": "https://wiki.example.com/runbooks/faq-bot",
        "description": "Answers common questions from the help centre.",
    },
    "spec": {
        "scope": "Answer a customer's question with an article from the help centre, and "
        "reply on the ticket. Hand anything else to a person.",
        "tools": {
            "search_help": {"access": "read", "description": "Search help-centre articles."},
            "post_reply": {
                "access": "write",
                "description": "Reply on the ticket.",
                "arguments": {"article": {"pattern": "^kb-[0-9]+$", "required": True}},
            },
        },
        "budgets": {"per_day": {"max_cost_usd": 10}},
        "escalation": {"queue": "tier1-humans"},
        "rollout": {
            "shadow": {"min_runs": 20, "min_agreement": 0.8, "min_days": 7},
            "canary": {"traffic": 0.25, "min_runs": 100, "clean_days": 7},
        },
    },
}

TICKETS = [
    ("My new card has not arrived yet.", "card_arrival"),
    ("The card machine declined my card twice today.", "card_not_working"),
    ("I think I lost my card on the train.", "lost_or_stolen_card"),
    ("The refund from the shop is still not on my account.", "refund_not_showing_up"),
    ("My sister says my transfer never reached her.", "transfer_not_received_by_recipient"),
]


@dataclass
class Demo:
    """What the demo recorded, for tests to look up."""

    clock: FakeClock
    agents: list[str] = field(default_factory=lambda: ["ticket-router", "refund-helper", "faq-bot"])
    denied_run: str = ""
    """A ``ticket-router`` run blocked by the policy (a refund it may not issue)."""
    resolved_run: str = ""
    retried_run: str = ""
    approval: str = ""
    """The refund waiting for approval."""
    runs: list[str] = field(default_factory=list[str])


GovernorFactory = Callable[..., Warden]


def _router_tools(gov: Warden, rng: random.Random) -> dict[str, int]:
    flaky = {"left": 0}

    @gov.tool
    def lookup_customer(customer_id: str) -> dict[str, str]:
        if flaky["left"]:
            flaky["left"] -= 1
            raise ConnectionError("CRM timed out")
        return {"id": customer_id, "tier": rng.choice(["gold", "standard"]), "country": "DE"}

    @gov.tool
    def route_ticket(ticket_id: str, queue: str) -> dict[str, str]:
        return {"ticket_id": ticket_id, "queue": queue}

    return flaky


def _ticket_router(
    gov: Warden, demo: Demo, rng: random.Random, per_day: int, flaky: dict[str, int]
) -> None:
    for _ in range(per_day):
        n = len(demo.runs)
        text, queue = rng.choice(TICKETS)
        ticket = {"id": f"t-{1000 + n}", "customer": f"c-{200 + n % 37}", "text": text}
        roll = rng.random()
        flaky["left"] = 1 if roll > 0.93 else 0
        try:
            with gov.run(input=ticket, routing_key=ticket["customer"]) as run:
                run.call("lookup_customer", customer_id=ticket["customer"])
                run.record_model_call(
                    model="gpt-4o-mini",
                    input_tokens=rng.randint(350, 600),
                    output_tokens=rng.randint(20, 60),
                    latency_s=round(rng.uniform(0.4, 1.6), 2),
                )
                if roll < 0.10:
                    with contextlib.suppress(PolicyDenied):  # it tries; the policy says no
                        run.call("issue_refund", amount=20.0)
                    run.call("issue_refund", amount=20.0)  # again, uncaught: the run is blocked
                elif roll < 0.22:
                    run.check_confidence(0.31, output={"queue": queue})
                elif roll < 0.25:
                    raise ValueError("the ticket text could not be parsed")
                else:
                    run.call("route_ticket", ticket_id=ticket["id"], queue=queue)
                    run.resolve(output={"queue": queue})
        except ValueError:
            pass  # the agent's own error: recorded, the run failed
        demo.runs.append(run.id)
        if run.status is RunStatus.BLOCKED:
            demo.denied_run = demo.denied_run or run.id
        if run.status is RunStatus.RESOLVED:
            demo.resolved_run = demo.resolved_run or run.id
            if flaky["left"] == 0 and roll > 0.93:
                demo.retried_run = demo.retried_run or run.id
        gov.clock.sleep(rng.uniform(300, 3000))


def _faq_tools(gov: Warden) -> None:
    @gov.tool
    def search_help(query: str) -> list[str]:
        return ["kb-12", "kb-40"]

    @gov.tool
    def post_reply(ticket_id: str, article: str) -> str:
        return "posted"


def _faq(gov: Warden, demo: Demo, rng: random.Random, per_day: int) -> None:
    for _ in range(per_day):
        n = len(demo.runs)
        key = f"q-{n}"
        try:
            with gov.run(input={"question": "How do I reset my PIN?"}, routing_key=key) as run:
                run.call("search_help", query="reset PIN")
                run.record_model_call(model="gpt-4o-mini", input_tokens=800, output_tokens=120)
                article = "kb-12" if rng.random() < 0.85 else "kb-40"
                run.call("post_reply", ticket_id=f"t-{n}", article=article)
                run.resolve(output={"article": article})
        except RunRerouted:
            continue
        demo.runs.append(run.id)
        if run.mode.value == "shadow":
            gov.record_outcome(
                key, {"tool": "post_reply", "arguments": {"article": "kb-12"}}, actor="gus"
            )
        gov.clock.sleep(rng.uniform(600, 4000))


def _waiting_refund(store: SqlStore, spec: AgentSpec, clock: FakeClock) -> str:
    """A refund-helper run waiting for a person's approval of a 180-dollar refund."""
    now = clock.now()
    run_id = f"run_{uuid.uuid4().hex[:16]}"
    run = RunRecord(
        id=run_id,
        agent=spec.name,
        spec_hash=spec.content_hash(),
        spec_version=spec.metadata.version,
        routing_key="c-311",
        input={"customer": "c-311", "order": "o-7781", "text": "The blender arrived broken."},
        started_at=now - timedelta(minutes=3),
        heartbeat_at=now,
        steps=1,
        tool_calls=1,
    )
    lookup = ToolCallRecord(
        run_id=run_id,
        seq=1,
        tool="lookup_order",
        arguments={"order": "o-7781"},
        status=ToolCallStatus.SUCCEEDED,
        decision=Decision(
            verdict=Verdict.ALLOW,
            rule="access",
            reason="lookup_order reads data and is allowed for this agent within its limits.",
        ),
        attempts=1,
        result={"order": "o-7781", "item": "blender", "paid": 180.0},
        started_at=now - timedelta(minutes=3),
        ended_at=now - timedelta(minutes=3),
        latency_s=0.21,
    )
    store.apply([RunRecorded(run=run), ToolCallRecorded(call=lookup)])
    approval = ApprovalRequest(
        id=f"apr_{uuid.uuid4().hex[:16]}",
        run_id=run_id,
        agent=spec.name,
        seq=2,
        tool="issue_refund",
        arguments={"amount": 180.0, "order": "o-7781"},
        args_hash="demo",
        rule="conditional_approval",
        reason="issue_refund needs a person's approval when amount > 100 (here 180).",
        created_at=now - timedelta(minutes=2),
        expires_at=now + timedelta(minutes=13),
    )
    store.create_approval(approval)
    return approval.id


def seed_demo(store: SqlStore, make_governor: GovernorFactory, per_day: int = 9) -> Demo:
    """Record the demo on a fresh fake clock; the app under test should use ``demo.clock``."""
    clock = FakeClock(START - timedelta(hours=1), tick=0.05)
    demo = Demo(clock=clock)
    rng = random.Random(7)
    router = make_governor(load_spec(EXAMPLE), clock=clock, kill_criteria_every_s=None)
    refunds_spec = AgentSpec.model_validate(REFUND_SPEC)
    refunds = make_governor(refunds_spec, clock=clock)
    faq = make_governor(AgentSpec.model_validate(FAQ_SPEC), clock=clock)

    @refunds.tool
    def lookup_order(order: str) -> dict[str, Any]:
        return {"order": order, "paid": 35.0}

    @refunds.tool
    def issue_refund(amount: float) -> str:
        return f"refunded {amount:.2f}"

    flaky = _router_tools(router, rng)
    _faq_tools(faq)
    for day in range(DAYS):
        clock.set(START + timedelta(days=day))
        _ticket_router(router, demo, rng, per_day + rng.randint(-2, 3), flaky)
        _faq(faq, demo, rng, per_day // 2)
        for i in range(2):
            with refunds.run(input={"order": f"o-{day}{i}"}) as run:
                run.call("lookup_order", order=f"o-{day}{i}")
                run.call("issue_refund", amount=35.0)
                run.resolve(output="refunded")
    for gov in (router, refunds, faq):
        gov.flush()
    change_stage(
        store,
        "faq-bot",
        RolloutAction.ADVANCE,
        actor="farah@example.com",
        reason="Shadow agreement 86 % over 40 runs; readiness signed off in review.",
        clock=clock,
    )
    store.open_incident(
        Incident(
            id=f"inc_{uuid.uuid4().hex[:12]}",
            agent="refund-helper",
            criterion="cost_per_completed_usd > 0.02 over 3600 s",
            metric="cost_per_completed_usd",
            threshold=0.02,
            value=0.034,
            samples=64,
            window_s=3600,
            action="pause",
            mode=RuleMode.ENFORCE,
            applied="kill switch engaged",
            spec_hash=refunds_spec.content_hash(),
            spec_version="0.3.0",
            dedup_key="refund-helper:cost_per_completed_usd:0.3.0",
            opened_at=clock.now(),
            summary="refund-helper: cost per completed run 0.034 USD above 0.02 (64 runs); paused",
        )
    )
    store.set_kill_switch(
        "refund-helper",
        engaged=True,
        reason="Cost per refund tripled since this morning; paused until the prompt is fixed.",
        actor="dana@example.com",
        at=clock.now(),
    )
    demo.approval = _waiting_refund(store, refunds_spec, clock)
    return demo


def make_tokens(store: SqlStore, clock: FakeClock) -> dict[str, str]:
    """A token per role (named after the role), plus ``router-bot`` bound to ticket-router."""
    tokens: dict[str, str] = {}
    for name, role, agent in [
        *((r.value, r, "ticket-router" if r is Role.AGENT else None) for r in Role),
        ("router-bot", Role.VIEWER, "ticket-router"),
    ]:
        token_id, secret = new_token()
        store.create_token(
            ApiToken(
                id=token_id,
                name=name,
                role=role,
                agent=agent,
                token_hash=hash_token(secret),
                created_at=clock.now(),
                created_by="test",
            )
        )
        tokens[name] = secret
    return tokens
