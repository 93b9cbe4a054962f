"""The dashboard: server-rendered pages for the reviewer and the person on call.

Pages are Jinja2 templates (``server/templates``) over the same store and runtime
functions the API uses; one stylesheet (``server/static``); charts are inline SVG drawn on
the server; the only script is a few lines that ask for confirmation before a form that
changes something is sent. Nothing is fetched from elsewhere. Sign-in, roles and CSRF:
``server.pages.common``.

Pages: ``/`` (fleet), ``/agents/{agent}`` (spec, rollout, charts, readiness, kill switch),
``/runs`` and ``/runs/{id}`` (decision trail), ``/queue`` (approvals and handoffs),
``/audit`` (audit log and chain status), ``/login``: one module each in ``server.pages``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from warden.server.pages import agent, audit, auth, fleet, queue, runs
from warden.server.pages.common import (
    LoginRequired,
    PageProblem,
    login_required_response,
    page_problem_response,
)

__all__ = ["mount_dashboard"]

STATIC = Path(__file__).resolve().parent / "static"


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard pages, their static files and their error pages to ``app``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, fleet, agent, runs, queue, audit):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, login_required_response)
    app.add_exception_handler(PageProblem, page_problem_response)
