"""Liveness: ``/healthz`` answers while the store is reachable (not in the OpenAPI schema)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from warden.server.deps import ServerContext, context

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(ctx: ServerContext = Depends(context)) -> dict[str, str]:
    """Liveness and store reachability (503 when the store is down)."""
    ctx.store.ping()
    return {"status": "ok"}
