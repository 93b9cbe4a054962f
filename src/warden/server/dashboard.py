"""The dashboard: server-rendered pages for the reviewer and the person on call."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

__all__ = ["mount_dashboard"]


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard pages to ``app``."""

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:  # pyright: ignore[reportUnusedFunction]
        return RedirectResponse("/docs")
