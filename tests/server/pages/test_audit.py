"""``pages/audit.py``: the audit log page, paged and filtered, notices a broken chain."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.server.conftest import Pages, table_rows
from warden.server.pages import audit
from warden.store import SqlStore
from warden.store import tables as t


def test_audit_page_shows_the_chain_status_and_notices_tampering(
    pages: Pages, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = pages.as_("viewer").text("/audit")
    assert "Chain intact" in page and "Kill switch engaged" in page
    monkeypatch.setattr(audit, "AUDIT_PAGE", 3)
    first = pages.text("/audit")
    assert len(table_rows(first, "audit")) == 3 and "Older entries" in first
    older = re.search(r'href="(/audit\?before=\d+)"', first).group(1)  # type: ignore[union-attr]
    assert len(table_rows(pages.text(older), "audit")) == 3
    only = table_rows(pages.text("/audit?agent=refund-helper"), "audit")
    assert only and all("refund-helper" in r for r in only)
    with store.engine.begin() as conn:
        conn.execute(sa.update(t.audit_log).where(t.audit_log.c.seq == 2).values(reason="edited"))
    broken = pages.text("/audit")
    assert "Chain broken" in broken and "Entry #2" in broken


def test_the_page_checks_the_newest_entries_only_and_says_so(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "CHECKED_ON_VIEW", 3)
    page = pages.as_("viewer").text("/audit")
    assert "The newest 3 entries" in page and "warden audit verify" in page
