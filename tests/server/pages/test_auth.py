"""``pages/auth.py``: pages redirect to the sign-in form until a valid token is given; the
token is kept in an HttpOnly cookie; no redirect leaves the site; a revoked token is sent
back to sign in; with auth off there is no sign-in (forms still need their CSRF token)."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from tests.server.conftest import Pages
from tests.server.demo import Demo
from warden.core.clock import SystemClock
from warden.server import create_app
from warden.store import SqlStore


def test_pages_redirect_to_login_until_signed_in(pages: Pages) -> None:
    pages.as_(None)
    for path in ["/", "/runs?state=blocked", "/queue", "/audit", "/agents/faq-bot"]:
        r = pages.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    r = pages.get("/runs?state=blocked", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Fruns%3Fstate%3Dblocked"
    form = pages.text("/login")
    assert 'type="password"' in form
    bad = pages.post("/login", {"token": "wdn_nope_nope", "next": "/queue"})
    assert bad.status_code == 401 and "That token is not valid" in html.unescape(bad.text)
    ok = pages.post("/login", {"token": pages.tokens["viewer"], "next": "/runs?state=blocked"})
    assert ok.status_code == 303 and ok.headers["location"] == "/runs?state=blocked"
    cookie = ok.headers["set-cookie"].lower()
    assert "warden_token=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert pages.get("/").status_code == 200  # the cookie now signs every page in
    out = pages.post("/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert pages.get("/", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(pages: Pages) -> None:
    for target in ["//evil.example", "https://evil.example/", "/\\evil.example"]:
        r = pages.post("/login", {"token": pages.tokens["viewer"], "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_revoked_token_is_sent_back_to_login(pages: Pages, store: SqlStore) -> None:
    pages.as_("viewer")
    assert pages.get("/").status_code == 200
    token = next(tok for tok in store.list_tokens() if tok.name == "viewer")
    store.revoke_token(token.id, SystemClock().now())
    r = pages.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (
        'warden_token=""' in r.headers["set-cookie"]
        or "max-age=0" in r.headers["set-cookie"].lower()
    )
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert denied and denied[-1].reason == "missing or unknown token"


def test_with_auth_off_there_is_no_login(store: SqlStore, demo: Demo) -> None:
    with TestClient(create_app(store, clock=demo.clock, auth=False)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "sign-in is off" in page.text
        r = client.get("/login?next=/queue", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/queue"
        # forms still need their CSRF token (no session cookie to lean on here)
        forged = client.post(
            "/agents/ticket-router/kill-switch",
            data={"action": "engage", "reason": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert store.get_kill_switch("ticket-router").engaged is False
