"""Signing in and out of the dashboard with an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from warden.server.deps import ServerContext, authenticate, context
from warden.server.pages.common import PageRoute, check_csrf, render, safe_next, set_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/login")
def login_page(
    request: Request, next: str = "/", ctx: ServerContext = Depends(context)
) -> Response:
    """The sign-in form (with sign-in off, straight to the dashboard)."""
    if not ctx.auth:
        return RedirectResponse(safe_next(next), 303)
    return render(request, "login.html", None, next=safe_next(next), error="")


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf: Annotated[str, Form()] = "",
    ctx: ServerContext = Depends(context),
) -> Response:
    """Check the token and keep it in an HttpOnly cookie; back to the form if it is not valid."""
    if not ctx.auth:
        return RedirectResponse(safe_next(next), 303)
    check_csrf(request, csrf)
    try:
        authenticate(ctx, request, token.strip())
    except HTTPException:
        return render(
            request,
            "login.html",
            None,
            status=401,
            next=safe_next(next),
            error="That token is not valid: it is unknown or has been revoked.",
        )
    response = RedirectResponse(safe_next(next), 303)
    set_session(request, response, token.strip())
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Forget the token."""
    check_csrf(request, csrf)
    response = RedirectResponse("/login", 303)
    set_session(request, response, None)
    return response
