"""Page deliveries on the database under test: every attempt kept, oldest first."""

from __future__ import annotations

from datetime import timedelta

from warden.core.clock import FakeClock
from warden.core.incidents import PageDelivery
from warden.store import SqlStore


def test_deliveries_are_listed_oldest_first_by_agent_and_incident(
    store: SqlStore, clock: FakeClock
) -> None:
    def page(page_id: str, minutes: int, **fields) -> PageDelivery:
        base = {
            "id": page_id,
            "agent": "a",
            "incident_id": "inc_1",
            "channel": "webhook",
            "target": "https://pager.example/hook",
            "recipient": "owner",
            "delivered": True,
            "at": clock.now() + timedelta(minutes=minutes),
        }
        return PageDelivery(**(base | fields))

    store.record_page(page("p2", 2, delivered=False, status_code=503, error="unavailable"))
    store.record_page(page("p1", 1))
    store.record_page(page("p3", 3, recipient="backup_owner"))
    store.record_page(page("p4", 0, agent="b", incident_id=None, test=True))
    assert [p.id for p in store.list_pages()] == ["p4", "p1", "p2", "p3"]
    assert [p.id for p in store.list_pages("a")] == ["p1", "p2", "p3"]
    assert [p.id for p in store.list_pages(incident_id="inc_1")] == ["p1", "p2", "p3"]
    failed = store.list_pages("a")[1]
    assert (failed.delivered, failed.status_code, failed.error) == (False, 503, "unavailable")
