"""The dashboard (``server/dashboard.py``) over the demo data, through the ASGI app (no
browser): every page renders with its security headers and nothing external, a token bound
to an agent sees only that agent on every page, odd query strings never break a page.

One module per page under ``tests/server/pages/``; in a real browser:
``test_dashboard_browser.py``."""

from __future__ import annotations

import re

import pytest

from tests.server.conftest import Pages, table_rows
from tests.server.demo import Demo
from warden.store import SqlStore


def test_every_page_renders_with_the_demo_data(pages: Pages, demo: Demo, store: SqlStore) -> None:
    pages.as_("viewer")
    waiting = store.get_approval(demo.approval)
    assert waiting is not None
    for path in [
        "/",
        "/agents/ticket-router",
        "/agents/refund-helper",
        "/agents/faq-bot",
        "/runs",
        f"/runs/{demo.denied_run}",
        f"/runs/{demo.resolved_run}",
        f"/runs/{demo.retried_run}",
        f"/runs/{waiting.run_id}",
        "/queue",
        "/audit",
        "/static/warden.css",
    ]:
        r = pages.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    page = pages.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "cdn" not in page.text.lower() and "https://" not in page.text  # nothing external


def test_a_token_bound_to_an_agent_sees_only_that_agent(
    pages: Pages, demo: Demo, store: SqlStore
) -> None:
    pages.as_("router-bot")
    fleet = pages.text("/")
    assert [re.search(r'data-agent="([^"]+)"', r).group(1) for r in table_rows(fleet, "fleet")] == [  # type: ignore[union-attr]
        "ticket-router"
    ]
    assert pages.get("/agents/refund-helper").status_code == 403
    runs = table_rows(pages.text("/runs?agent=refund-helper"))
    assert runs and all("ticket-router" in r for r in runs)
    waiting = store.get_approval(demo.approval)
    assert waiting is not None
    assert pages.get(f"/runs/{waiting.run_id}").status_code == 403
    assert demo.approval not in pages.text("/queue")
    audit = table_rows(pages.text("/audit"), "audit")
    assert all("refund-helper" not in r for r in audit)


@pytest.mark.parametrize(
    "path",
    [
        "/runs?since=9999-12-31&until=9999-12-31",
        "/runs?since=0001-01-01",
        "/runs?after_at=2026-03-02T08:00:00&after_id=x",  # no time zone
        "/runs?after_at=9999-12-31T23:59:59-01:00&after_id=x",
        "/runs?after_at=nonsense&after_id=x",
        "/runs?agent=%00&state=%FF&mode=' OR 1=1 --",
        "/audit?before=99999999999999999999999",
        "/audit?before=-3",
        "/audit?before=abc",
        "/audit?agent=%00",
        "/agents/a%00b",
        "/runs/run_%00",
    ],
)
def test_odd_query_strings_never_break_a_page(pages: Pages, path: str) -> None:
    r = pages.as_("viewer").get(path)
    assert r.status_code in (200, 404), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
