"""``pages/fleet.py``: each agent, red first, with its numbers."""

from __future__ import annotations

import re

from tests.server.conftest import Pages, table_rows


def test_fleet_page_shows_each_agent_red_first_with_its_numbers(pages: Pages) -> None:
    page = pages.as_("viewer").text("/")
    rows = table_rows(page, "fleet")
    agents = [re.search(r'data-agent="([^"]+)"', r).group(1) for r in rows]  # type: ignore[union-attr]
    assert agents == ["refund-helper", "faq-bot", "ticket-router"]
    refund, faq, router = rows
    assert "Red" in refund and "kill switch on: Cost per refund tripled" in refund
    assert "1 open incident(s)" in refund and ">ON<" in refund
    assert "dana@example.com" in refund and "backup: erik@example.com" in refund
    assert "canary" in faq and "25 % of traffic" in faq
    assert "Amber" in router and "readiness: 3 item(s) failing" in router
    assert re.search(r'class="num">\d+</td>', router)  # runs today
    assert "%" in router and "$" in router  # rates and cost per completed run
    assert "to fix" in router  # readiness
    assert "calls waiting for approval" in page
