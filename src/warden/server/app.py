"""The control plane: one FastAPI app over the store, one router per resource.

``create_app(store)`` builds it; ``warden serve`` runs it on uvicorn. The OpenAPI schema is
at ``/openapi.json``; request and response models are the core pydantic models. The
routers are ``server.routers`` (``ROUTERS``, in the order they are included), the error
responses ``server.error_responses``, the dashboard ``server.dashboard``.
"""

from __future__ import annotations

from fastapi import FastAPI

from warden.core.clock import Clock, SystemClock
from warden.server.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from warden.server.dashboard import mount_dashboard
from warden.server.deps import ServerContext
from warden.server.error_responses import ERROR_RESPONSES, install_error_handlers
from warden.server.routers import (
    agents,
    approvals,
    audit,
    events,
    handoffs,
    health,
    incidents,
    kill_switch,
    metrics,
    otlp,
    outcomes,
    pagerduty,
    rollout,
    runs,
    scope_changes,
    store_rpc,
    summary,
    tokens,
    tool_calls,
)
from warden.store import SqlStore

__all__ = ["ROUTERS", "create_app"]

ROUTERS = (
    agents,
    runs,
    tool_calls,
    events,
    kill_switch,
    approvals,
    handoffs,
    outcomes,
    incidents,
    pagerduty,
    rollout,
    scope_changes,
    audit,
    tokens,
    summary,
    metrics,
    health,
    otlp,
    store_rpc,
)
"""Every API router module, in the order its routes are included (and listed in OpenAPI)."""


def create_app(
    store: SqlStore,
    *,
    clock: Clock | None = None,
    auth: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The Warden API (and dashboard) over ``store``.

    Args:
        store: An open store.
        clock: Time source (default: the system clock).
        auth: Require API tokens (False only for ``--no-auth`` on loopback).
        max_body_bytes: Largest request body, bytes (default 16 MiB); larger is 413.
    """
    app = FastAPI(
        title="Warden",
        version="0.1.0",
        description="The operations layer for AI agents: agents, runs, decisions, approvals, "
        "the human queue, rollout, kill switch, incidents and the audit log.",
    )
    app.state.warden = ServerContext(store=store, clock=clock or SystemClock(), auth=auth)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    for module in ROUTERS:
        app.include_router(module.router, responses=ERROR_RESPONSES)
    mount_dashboard(app)
    return app
