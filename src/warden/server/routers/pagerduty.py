"""PagerDuty webhooks v3 in: ``POST /api/integrations/pagerduty`` acknowledges or resolves
the Warden incident a PagerDuty incident was opened for.

PagerDuty (https://developer.pagerduty.com/docs/webhooks/v3-overview/) posts one event per
request: ``{"event": {"id", "event_type", "resource_type", "occurred_at", "agent", "data"}}``;
for ``incident.*`` events ``data`` is the incident, whose ``incident_key`` is the Events API
v2 ``dedup_key`` Warden triggered it with. ``incident.acknowledged`` acknowledges and
``incident.resolved`` resolves the unresolved Warden incident with that key; nothing is sent
back to PagerDuty (no loop). Every other event type, an unknown key and an incident already
in that state are answered 200 ``ignored`` (PagerDuty retries anything but a 2xx).

The request is authenticated by its signature, not an API token: ``X-PagerDuty-Signature``
holds one or more comma-separated ``v1=<hex HMAC-SHA256 of the raw body>`` (more than one
while a secret is rotated), keyed with the subscription's secret, which the server reads
from ``WARDEN_PAGERDUTY_WEBHOOK_SECRET`` on each request. No secret configured, no or a
wrong signature: 401, written to the audit log. A body that is not a v3 event: 400 JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from warden.control.paging import set_incident_status, unresolved_incident
from warden.core.incidents import IncidentStatus
from warden.errors import RunStateError
from warden.server.deps import ServerContext, audit_denial, context
from warden.server.error_responses import error_body

__all__ = ["SECRET_ENV", "SIGNATURE_HEADER", "WebhookResult", "router", "signature_valid"]

router = APIRouter(tags=["integrations"])

SECRET_ENV = "WARDEN_PAGERDUTY_WEBHOOK_SECRET"
"""The environment variable holding the webhook subscription's signing secret."""
SIGNATURE_HEADER = "X-PagerDuty-Signature"
"""PagerDuty webhooks v3 signature header: ``v1=<hex>[,v1=<hex>...]``."""

_STATUS = {
    "incident.acknowledged": IncidentStatus.ACKNOWLEDGED,
    "incident.resolved": IncidentStatus.RESOLVED,
}
"""The v3 event types Warden acts on, and the incident status each one sets."""


class _Reference(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = ""
    summary: str = ""


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = ""
    event_type: str = Field(min_length=1)
    agent: _Reference | None = None
    data: dict[str, Any] = Field(default_factory=dict[str, Any])


class _Webhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: _Event


class WebhookResult(BaseModel):
    """What Warden did with one PagerDuty webhook event."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    event_type: str
    """The v3 ``event.event_type``, e.g. ``incident.acknowledged``."""
    action: Literal["acknowledged", "resolved", "ignored"]
    incident_id: str | None = None
    """The Warden incident, when one has the PagerDuty incident's key."""
    detail: str
    """What happened, in plain words."""


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    """Whether ``header`` holds a ``v1`` signature of ``body`` under ``secret``.

    Args:
        body: The raw request body, as received (bytes; re-encoding JSON breaks it).
        header: The ``X-PagerDuty-Signature`` value: comma-separated ``v1=<hex>``.
        secret: The webhook subscription's signing secret.

    Returns:
        True when any ``v1`` signature equals the hex HMAC-SHA256 of ``body`` (compared in
        constant time), as PagerDuty webhooks v3 "Verifying Signatures" prescribes.
    """
    expected = ("v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()).encode()
    return any(
        hmac.compare_digest(expected, given.strip().encode())
        for given in header.split(",")
        if given.strip()
    )


def _authenticate(ctx: ServerContext, request: Request, body: bytes) -> None:
    """Refuse (401, audited) a request without a valid signature."""
    secret = os.environ.get(SECRET_ENV, "")
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not secret:
        why = f"PagerDuty webhook refused: {SECRET_ENV} is not set on the server"
    elif not header:
        why = f"PagerDuty webhook refused: no {SIGNATURE_HEADER} header"
    elif not signature_valid(body, header, secret):
        why = f"PagerDuty webhook refused: {SIGNATURE_HEADER} does not match the body"
    else:
        return
    audit_denial(ctx, request, "pagerduty", why, None)
    raise HTTPException(401, why)


def _apply(ctx: ServerContext, hook: _Webhook) -> WebhookResult:
    event = hook.event
    status = _STATUS.get(event.event_type)
    if status is None:
        return WebhookResult(
            event_type=event.event_type, action="ignored", detail="Warden does not act on it"
        )
    key = event.data.get("incident_key")
    if not isinstance(key, str) or not key:
        return WebhookResult(
            event_type=event.event_type,
            action="ignored",
            detail="the PagerDuty incident has no incident_key (not opened by Warden)",
        )
    incident = unresolved_incident(ctx.store, key)
    if incident is None:
        return WebhookResult(
            event_type=event.event_type,
            action="ignored",
            detail=f"no unresolved Warden incident has the key {key!r}",
        )
    who = event.agent.summary if event.agent and event.agent.summary else ""
    actor = f"pagerduty:{who}" if who else "pagerduty"
    pd_incident = event.data.get("html_url") or event.data.get("id") or ""
    reason = f"{event.event_type} in PagerDuty (event {event.id or '?'}) {pd_incident}".strip()
    try:
        # No pager: the change came from PagerDuty, so nothing is sent back to it.
        set_incident_status(
            ctx.store, incident.id, status, actor=actor, clock=ctx.clock, reason=reason
        )
    except RunStateError as exc:
        return WebhookResult(
            event_type=event.event_type,
            action="ignored",
            incident_id=incident.id,
            detail=exc.message,
        )
    return WebhookResult(
        event_type=event.event_type,
        action="acknowledged" if status is IncidentStatus.ACKNOWLEDGED else "resolved",
        incident_id=incident.id,
        detail=f"{status.value} by {actor}",
    )


@router.post(
    "/api/integrations/pagerduty",
    response_model=WebhookResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def pagerduty_webhook(
    request: Request, ctx: ServerContext = Depends(context)
) -> WebhookResult | JSONResponse:
    """Acknowledge or resolve the Warden incident of a PagerDuty webhooks v3 event
    (signed with ``X-PagerDuty-Signature``; no API token)."""
    body = await request.body()  # the raw bytes: the signature covers them exactly
    await run_in_threadpool(_authenticate, ctx, request, body)
    try:
        hook = _Webhook.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        message = f"not a PagerDuty webhooks v3 event: {str(exc).splitlines()[0]}"
        return JSONResponse(error_body("request.invalid", message), status_code=400)
    return await run_in_threadpool(_apply, ctx, hook)
