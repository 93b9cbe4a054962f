"""Page deliveries in SQL: every attempt to reach an on-call channel, kept as it was.

One row per attempt (to the owner or the backup owner, about an incident or a test page;
delivered or not), inserted once and never changed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from warden.core.incidents import PageDelivery
from warden.store import tables as t
from warden.store.base import SqlBase
from warden.store.keyset import after_row

__all__ = ["PagingSql"]


class PagingSql(SqlBase):
    """Page-delivery methods of ``SqlStore``."""

    def record_page(self, page: PageDelivery) -> PageDelivery:
        """Store one delivery attempt."""
        with self._tx() as conn:
            conn.execute(
                sa.insert(t.pages).values(**page.model_dump(mode="json") | {"at": page.at})
            )
        return page

    def list_pages(
        self,
        agent: str | None = None,
        incident_id: str | None = None,
        *,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[PageDelivery]:
        """Page deliveries, oldest first (then by id).

        Args:
            agent: Only deliveries about this agent (on ``(agent, at)``).
            incident_id: Only deliveries about this incident (on ``(incident_id, at)``).
            after: Keyset cursor ``(at, id)`` of the last delivery of the previous page:
                only deliveries strictly after it in this order.
            limit: At most this many (None: all; every page and endpoint passes one).
        """
        p = t.pages.c
        q = sa.select(t.pages).order_by(p.at, p.id)
        if agent is not None:
            q = q.where(p.agent == agent)
        if incident_id is not None:
            q = q.where(p.incident_id == incident_id)
        if after is not None:
            q = q.where(after_row(p.at, [p.id], after, newest_first=False))
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [PageDelivery.model_validate(dict(r)) for r in rows]
