"""What every dashboard page shares: templates, who is signed in, roles, CSRF, rendering.

Sign-in uses the API's tokens: ``/login`` stores the token in the ``warden_token`` cookie
(HttpOnly, SameSite=Lax, Secure over HTTPS), which ``deps.principal`` reads like a bearer
header. Without it a page redirects to ``/login``; with too low a role it answers 403 with
a page saying which role is needed (the refusal is audited by ``deps.require``).

CSRF: every form carries a random token that must equal the ``warden_csrf`` cookie
(double submit). A page on another site can neither read that cookie nor make the browser
send it with a cross-site POST (SameSite=Lax), so its forged form fails the check; a POST
whose ``Origin`` names another host is refused as well. This also protects
``--no-auth`` mode, where there is no session cookie at all. (SameSite=Lax, not Strict,
so that a link to a run in a page or a chat message opens signed in.)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from warden.core.runs import ApprovalStatus
from warden.core.tokens import Principal, Role
from warden.errors import StoreUnavailable, WardenError
from warden.server.deps import COOKIE, ServerContext, context, principal, require
from warden.server.error_responses import status_of
from warden.server.pages import wording

__all__ = [
    "CSRF_COOKIE",
    "LoginRequired",
    "PageProblem",
    "PageRoute",
    "check_csrf",
    "check_role",
    "login_required_response",
    "page_problem_response",
    "render",
    "safe_next",
    "set_session",
    "usable",
    "viewer",
]

CSRF_COOKIE = "warden_csrf"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(  # pyright: ignore[reportUnknownMemberType]
    pct=wording.pct,
    usd=wording.usd,
    secs=wording.seconds,
    when=wording.when,
    words=wording.describe_value,
    action_words=wording.action_words,
)
_ENV.globals.update(  # pyright: ignore[reportUnknownMemberType]
    RUN_STATES=wording.RUN_STATES,
    TOOL_STATES=wording.TOOL_STATES,
    VERDICTS=wording.VERDICTS,
    TRIGGERS=wording.TRIGGERS,
    run_tone=wording.run_tone,
)


class PageRoute(APIRoute):
    """A dashboard route: a Warden error (a missing record, the store down) becomes an HTML
    error page with the status the API would give, not the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped."""
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except WardenError as exc:
                status = status_of(exc)
                title = "The store cannot be reached" if status == 503 else "That did not work"
                raise PageProblem(status, title, exc.message) from exc

        return page_handler


class LoginRequired(Exception):
    """Nobody (valid) is signed in: the page redirects to ``/login``."""

    def __init__(self, next_url: str, *, clear: bool = False) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.clear = clear
        """Remove a stale session cookie (unknown or revoked token)."""


class PageProblem(Exception):
    """A page that cannot be shown or an act that is refused: an HTML page with ``status``."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def usable(key: str) -> bool:
    """True when ``key`` (an agent name, run or approval id from a URL) can be looked up:
    not too long and without NUL, which PostgreSQL refuses in text (a 500 otherwise)."""
    return len(key) <= 256 and "\x00" not in key


def safe_next(url: str | None) -> str:
    """``url`` when it is a path on this site, else ``/`` (no open redirects)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    parts = urlsplit(url)
    return "/" if parts.scheme or parts.netloc else url


def _here(request: Request) -> str:
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def _who(request: Request, ctx: ServerContext) -> Principal:
    has_credentials = request.cookies.get(COOKIE) or request.headers.get("authorization")
    if ctx.auth and not has_credentials:
        raise LoginRequired(_here(request))  # nothing presented: just ask to sign in
    try:
        return principal(request, ctx)
    except HTTPException as exc:  # an unknown or revoked token (refusal audited)
        raise LoginRequired(_here(request), clear=True) from exc


def check_role(
    request: Request, ctx: ServerContext, who: Principal, role: Role, doing: str
) -> None:
    """Refuse (403 page, audited) unless ``who`` has ``role`` (and, on a route with an
    ``agent`` path parameter, may act on that agent)."""
    try:
        require(role)(request, who, ctx)
    except HTTPException as exc:
        if not who.role.at_least(role):
            message = (
                f"To {doing} you need the {role.value} role or higher. You are signed in as "
                f"{who.name} with the {who.role.value} role. Ask an administrator for a "
                f"{role.value} token (warden token create --role {role.value})."
            )
        else:
            message = f"Your token may not act on this agent: {exc.detail}."
        raise PageProblem(403, "Not allowed", message) from exc


def viewer(request: Request, ctx: ServerContext = Depends(context)) -> Principal:
    """Dependency of every page: who is signed in (any role; a token bound to an agent
    may open only that agent's pages)."""
    who = _who(request, ctx)
    request.state.who = who  # for the error page's navigation
    check_role(request, ctx, who, Role.VIEWER, "see the dashboard")
    return who


def check_csrf(request: Request, token: str) -> None:
    """Refuse a form that did not come from a page of this site (see the module docstring)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise PageProblem(
            403, "Refused", "This form was sent from another site, so it was not accepted."
        )
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not token or not secrets.compare_digest(cookie, token):
        raise PageProblem(
            403,
            "This form has expired",
            "The form could not be checked as coming from this dashboard (it may be old). "
            "Go back, reload the page and try again.",
        )


def _pending(ctx: ServerContext, who: Principal | None) -> int:
    if who is None:
        return 0
    try:
        mine = None if who.agent is None else [who.agent]
        return ctx.store.count_approvals(ApprovalStatus.PENDING, agents=mine)
    except StoreUnavailable:  # the page (perhaps the error page saying so) still shows
        return 0


def _harden(response: Response, nonce: str) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def render(
    request: Request,
    template: str,
    who: Principal | None,
    *,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` for ``who`` with the page chrome (navigation, CSRF token)."""
    ctx = context(request)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(16)
    html = _ENV.get_template(template).render(
        request=request,
        who=who,
        auth=ctx.auth,
        csrf=csrf,
        nonce=nonce,
        pending=_pending(ctx, who),
        path=request.url.path,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    _harden(response, nonce)
    return response


def set_session(request: Request, response: Response, token: str | None) -> None:
    """Store ``token`` in the session cookie, or remove the cookie (None)."""
    if token is None:
        response.delete_cookie(COOKIE, path="/")
        return
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def login_required_response(request: Request, exc: Exception) -> Response:
    """The redirect to ``/login`` (handler for ``LoginRequired``)."""
    assert isinstance(exc, LoginRequired)
    response = RedirectResponse(f"/login?next={quote(safe_next(exc.next_url), safe='')}", 303)
    if exc.clear:
        set_session(request, response, None)
    return response


def page_problem_response(request: Request, exc: Exception) -> Response:
    """The HTML error page (handler for ``PageProblem``)."""
    assert isinstance(exc, PageProblem)
    who: Principal | None = getattr(request.state, "who", None)
    return render(
        request, "error.html", who, status=exc.status, title=exc.title, message=exc.message
    )
