"""The control plane: one FastAPI app over the store, one router per resource.

``create_app(store)`` builds it; ``warden serve`` runs it on uvicorn. The OpenAPI schema is
at ``/openapi.json``; request and response models are the core pydantic models.
"""

from __future__ import annotations

from fastapi import FastAPI

from warden.core.clock import Clock, SystemClock
from warden.server.dashboard import mount_dashboard
from warden.server.deps import ServerContext
from warden.server.errors import ERROR_RESPONSES, install_error_handlers
from warden.server.routers import agents, audit, operations, otlp, runs, store_rpc, summary, tokens
from warden.store import SqlStore

__all__ = ["create_app"]


def create_app(store: SqlStore, *, clock: Clock | None = None, auth: bool = True) -> FastAPI:
    """The Warden API (and dashboard) over ``store``.

    Args:
        store: An open store.
        clock: Time source (default: the system clock).
        auth: Require API tokens (False only for ``--no-auth`` on loopback).
    """
    app = FastAPI(
        title="Warden",
        version="0.1.0",
        description="The operations layer for AI agents: agents, runs, decisions, approvals, "
        "the human queue, rollout, kill switch, incidents and the audit log.",
    )
    app.state.warden = ServerContext(store=store, clock=clock or SystemClock(), auth=auth)
    install_error_handlers(app)
    for module in (agents, runs, operations, audit, tokens, summary, otlp, store_rpc):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    mount_dashboard(app)
    return app
