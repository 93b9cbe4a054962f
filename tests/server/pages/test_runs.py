"""``pages/runs.py``: the run page's decision trail in plain language, and the runs page's
filters and paging."""

from __future__ import annotations

import re

from tests.server.conftest import Pages, run_ids, table_rows
from tests.server.demo import Demo
from warden.core.runs import RunFilter
from warden.store import SqlStore


def test_run_page_tells_the_decision_trail_in_plain_language(pages: Pages, demo: Demo) -> None:
    page = pages.as_("viewer").text(f"/runs/{demo.denied_run}")
    assert "Blocked." in page and "The policy stopped it." in page
    assert "Denied issue_refund:" in page
    assert "issue_refund is blocked for this agent: it may never use it." in page
    assert "Allowed" in page and "(rule: access)" in page
    assert "Step 2: model gpt-4o-mini read" in page  # the story
    assert "Ended blocked after" in page
    # JSON only inside the collapsed technical details
    visible, technical = page.split('<details class="technical">')
    assert '{"' not in visible and '"tool_calls"' in technical
    retried = pages.text(f"/runs/{demo.retried_run}")
    assert "Tried 2 times (1 retry)." in retried
    assert pages.get("/runs/run_nope").status_code == 404


def test_runs_filters(pages: Pages, demo: Demo, store: SqlStore) -> None:
    pages.as_("viewer")
    everything = table_rows(pages.text("/runs?state=&mode="))
    assert len(everything) == 50 and "Older runs" in pages.text("/runs")

    blocked = table_rows(pages.text("/runs?state=blocked"))
    assert blocked and all(">Blocked<" in r for r in blocked)
    denied = table_rows(pages.text("/runs?denied=1"))
    assert any(demo.denied_run in r for r in denied)
    assert not any(demo.resolved_run in r for r in denied)

    shadow = table_rows(pages.text("/runs?mode=shadow"))
    # faq-bot is in shadow, and so is the ticket router (its spec has a rollout plan);
    # refund-helper has no rollout: all its runs are live
    assert shadow and not any("refund-helper" in r for r in shadow)
    mine = table_rows(pages.text("/runs?agent=refund-helper"))
    assert mine and all("refund-helper" in r for r in mine)

    first_day = table_rows(pages.text("/runs?since=2026-03-02&until=2026-03-02"))
    assert first_day and all("2026-03-02" in r for r in first_day)
    assert "No runs match" in pages.text("/runs?since=2030-01-01")

    odd = pages.text("/runs?state=bogus&since=yesterday")
    assert "Unknown state 'bogus'; ignored." in odd and "is not a date" in odd

    # paging: the next page starts where the first ended, without overlap
    first = pages.text("/runs")
    link = re.search(r'href="(/runs\?[^"]*after_id=[^"]+)"', first)
    assert link is not None
    second = table_rows(pages.text(link.group(1)))
    assert second and not run_ids(second) & run_ids(table_rows(first))
    total = len(store.list_runs(RunFilter(limit=10_000)))
    assert len(second) == min(50, total - 50)
