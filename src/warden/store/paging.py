"""Page deliveries in SQL: every attempt to reach an on-call channel, kept as it was.

One row per attempt (to the owner or the backup owner, about an incident or a test page;
delivered or not), inserted once and never changed.
"""

from __future__ import annotations

import sqlalchemy as sa

from warden.core.incidents import PageDelivery
from warden.store import tables as t
from warden.store.base import SqlBase

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
        self, agent: str | None = None, incident_id: str | None = None
    ) -> list[PageDelivery]:
        """Page deliveries, oldest first."""
        q = sa.select(t.pages).order_by(t.pages.c.at, t.pages.c.id)
        if agent is not None:
            q = q.where(t.pages.c.agent == agent)
        if incident_id is not None:
            q = q.where(t.pages.c.incident_id == incident_id)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [PageDelivery.model_validate(dict(r)) for r in rows]
