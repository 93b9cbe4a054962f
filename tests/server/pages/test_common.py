"""``pages/common.py``: forms without the CSRF token (or from another site) are refused, and
a store outage is an HTML page, not the API's JSON."""

from __future__ import annotations

import pytest

from tests.server.conftest import Pages
from warden.errors import StoreUnavailable
from warden.store import SqlStore


def test_forms_refuse_requests_without_the_csrf_token(pages: Pages, store: SqlStore) -> None:
    pages.as_("operator")
    missing = pages.post(
        "/agents/ticket-router/kill-switch", {"action": "engage", "reason": "x"}, csrf=False
    )
    assert missing.status_code == 403 and "This form has expired" in missing.text
    wrong = pages.post(
        "/agents/ticket-router/kill-switch",
        {"action": "engage", "reason": "x", "csrf": "guess"},
        csrf=False,
    )
    assert wrong.status_code == 403
    other_site = pages.post(
        "/agents/ticket-router/kill-switch",
        {"action": "engage", "reason": "x"},
        headers={"origin": "https://evil.example"},
    )
    assert other_site.status_code == 403 and "another site" in other_site.text
    assert store.get_kill_switch("ticket-router").engaged is False
    login = pages.as_(None).post("/login", {"token": pages.tokens["admin"]}, csrf=False)
    assert login.status_code == 403  # login CSRF too


def test_a_store_outage_is_an_html_page_not_json(
    pages: Pages, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: object, **__: object) -> None:
        raise StoreUnavailable("database is not reachable (connection refused)")

    pages.as_("viewer")
    monkeypatch.setattr(store, "list_runs", down)
    r = pages.get("/runs")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "The store cannot be reached" in r.text and "connection refused" in r.text
