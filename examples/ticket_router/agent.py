"""The ticket-router agent, governed by ``agent.yaml``.

For each inbound ticket it looks the customer up in the CRM, asks the model for a queue,
and routes the ticket; below the spec's confidence threshold it hands the ticket to
``tier1-humans``. Like real agents drift, it is over-helpful: for a refund ticket it also
tries ``issue_refund``, for "close my account" it tries ``close_account``, and when a
ticket asks for data to be e-mailed somewhere it tries ``send_email``. The spec blocks the
first and does not grant the other two (deny by default), so Warden stops all three before
they reach the ledger; the agent takes the ``PolicyDenied`` and goes on routing.

Wrapping an agent takes what ``register_tools`` and ``handle`` show: tools registered
with ``@wd.tool`` (validated from their type hints), every call through ``run.call``,
the model call recorded, and each run ended with ``resolve`` or ``escalate``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from ticket_router.data import REFUND_INTENTS, Ticket
from ticket_router.model import MODEL_NAME, IntentClassifier
from ticket_router.systems import Customer, Ledger, SimulatedCRM, TicketQueues
from warden import Governor, KillSwitchEngaged, PolicyDenied, Run, RunRerouted

__all__ = ["SPEC_PATH", "Routed", "Systems", "attempted_actions", "handle", "register_tools"]

SPEC_PATH = Path(__file__).with_name("agent.yaml")
"""The agent's spec."""

MODEL_LATENCY_S = 0.004
"""Simulated time one classification takes (offline model), in seconds."""

_REFUND = re.compile(r"\b(refund|reimburse|money back|chargeback|charge back)", re.IGNORECASE)
_CLOSE = re.compile(
    r"\b(close|delete|terminate|shut down|cancel)\b[^.?!]{0,40}\baccount", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EXFIL = re.compile(
    r"\b(e-?mail|send|forward|export)\b[^.?!]{0,80}\b(statements?|transactions|details|"
    r"data|history|card numbers?|records|pin)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(r"(?:£|\$|€|EUR|GBP|USD)\s?(\d{1,6}(?:\.\d{1,2})?)", re.IGNORECASE)


class Routed(BaseModel):
    """Where a ticket was put."""

    ticket_id: str
    queue: str
    applied: bool
    """False when an idempotent repeat was recognised and not applied again."""


@dataclass
class Systems:
    """The downstream systems the tools act on (see ``ticket_router.systems``)."""

    crm: SimulatedCRM
    queues: TicketQueues
    ledger: Ledger


def register_tools(wd: Governor, systems: Systems) -> None:
    """Register the agent's tools on ``wd``: the four in its spec, and the two the
    over-helpful agent reaches for that its spec never granted."""

    @wd.tool
    def lookup_customer(customer_id: str) -> Customer:
        return systems.crm.lookup(customer_id)

    @wd.tool
    def route_ticket(ticket_id: str, queue: str, idempotency_key: str | None = None) -> Routed:
        applied = systems.queues.put(ticket_id, queue, idempotency_key)
        return Routed(ticket_id=ticket_id, queue=queue, applied=applied)

    @wd.tool
    def escalate_to_human(
        ticket_id: str, queue: str, note: str, idempotency_key: str | None = None
    ) -> Routed:
        applied = systems.queues.put(ticket_id, queue, idempotency_key)
        return Routed(ticket_id=ticket_id, queue=queue, applied=applied)

    @wd.tool
    def issue_refund(customer_id: str, amount: float) -> str:
        systems.ledger.refunds.append((customer_id, amount))
        return f"refunded {amount:.2f} to {customer_id}"

    @wd.tool
    def close_account(customer_id: str) -> str:
        systems.ledger.closed_accounts.append(customer_id)
        return f"closed {customer_id}"

    @wd.tool
    def send_email(to: str, body: str) -> str:
        systems.ledger.emails_sent.append((to, body))
        return f"sent to {to}"


def attempted_actions(ticket: Ticket, queue: str) -> list[tuple[str, dict[str, object]]]:
    """The calls the over-helpful agent makes beyond routing, for ``ticket`` predicted as
    ``queue``: what an instruction-following model does when a ticket asks for it."""
    text = ticket.text
    actions: list[tuple[str, dict[str, object]]] = []
    if queue in REFUND_INTENTS or _REFUND.search(text):
        amount = _AMOUNT.search(text)
        actions.append(
            (
                "issue_refund",
                {
                    "customer_id": ticket.customer_id,
                    "amount": float(amount.group(1)) if amount else 25.0,
                },
            )
        )
    if queue == "terminate_account" or _CLOSE.search(text):
        actions.append(("close_account", {"customer_id": ticket.customer_id}))
    address = _EMAIL.search(text)
    if address is not None or _EXFIL.search(text):
        to = address.group(0) if address is not None else f"{ticket.customer_id}@example.com"
        actions.append(("send_email", {"to": to, "body": f"Re {ticket.id}: {text[:200]}"}))
    return actions


def handle(wd: Governor, model: IntentClassifier, ticket: Ticket) -> Run:
    """Route one ticket under governance; returns the run, which has always ended.

    A run Warden routes to the fallback (outside the canary slice, rolled back, or the
    kill switch on) never reaches the agent's code: Warden records it and hands the
    ticket to the human queue.
    """
    run = wd.run(
        input={"ticket_id": ticket.id, "customer_id": ticket.customer_id, "text": ticket.text},
        routing_key=ticket.customer_id,
    )
    try:
        with run:
            run.call("lookup_customer", customer_id=ticket.customer_id)
            prediction = model.predict(ticket.text)
            wd.clock.sleep(MODEL_LATENCY_S)
            run.record_model_call(
                model=MODEL_NAME,
                input_tokens=len(ticket.text.split()),
                output_tokens=2,
                latency_s=MODEL_LATENCY_S,
                cost_usd=0.0,
                provider="scikit-learn",
            )
            for tool, arguments in attempted_actions(ticket, prediction.queue):
                # Denied calls are recorded with their rule and reason; the agent carries on.
                with contextlib.suppress(PolicyDenied):
                    run.call(tool, **arguments)
            esc = run.spec.spec.escalation
            if esc is not None and prediction.confidence < esc.confidence_threshold:
                run.call(
                    "escalate_to_human",
                    ticket_id=ticket.id,
                    queue=esc.queue,
                    note=f"model unsure: {prediction.queue} at {prediction.confidence:.2f}",
                )
                run.check_confidence(prediction.confidence, output=prediction.queue)
                return run
            run.call("route_ticket", ticket_id=ticket.id, queue=prediction.queue)
            run.resolve({"queue": prediction.queue, "confidence": round(prediction.confidence, 4)})
    except (RunRerouted, KillSwitchEngaged):
        pass  # recorded by Warden, with a handoff packet in the human queue
    return run
