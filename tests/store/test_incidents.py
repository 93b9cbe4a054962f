"""Incidents on the database under test: one unresolved incident per dedup key, each
state change audited once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import make_incident
from warden.core.clock import FakeClock
from warden.core.decisions import RuleMode
from warden.core.incidents import Incident, IncidentStatus
from warden.errors import NotFoundError, RunStateError
from warden.store import SqlStore


def _incident(clock: FakeClock, incident_id: str, key: str = "a:error_rate:1") -> Incident:
    return make_incident(
        id=incident_id,
        agent="a",
        value=0.4,
        samples=20,
        action="pause",
        mode=RuleMode.ENFORCE,
        applied="paused the rollout",
        dedup_key=key,
        opened_at=clock.now(),
        summary="error rate 0.4 > 0.1: paused",
    )


def test_an_unresolved_incident_is_not_opened_twice(store: SqlStore, clock: FakeClock) -> None:
    first, opened = store.open_incident(_incident(clock, "inc_1"))
    assert opened
    clock.advance(60)
    again, opened = store.open_incident(_incident(clock, "inc_2"))
    assert (again.id, opened) == ("inc_1", False)
    _, opened = store.open_incident(_incident(clock, "inc_3", key="a:latency:1"))
    assert opened
    store.update_incident("inc_1", actor="dana", at=clock.now(), status=IncidentStatus.RESOLVED)
    clock.advance(60)
    _, opened = store.open_incident(_incident(clock, "inc_4"))
    assert opened  # the same key again, once the first is resolved
    assert [i.id for i in store.list_incidents("a", status=IncidentStatus.OPEN)] == [
        "inc_4",
        "inc_3",
    ]
    assert [e.action for e in store.list_audit(agent="a")].count("incident.opened") == 3
    resolved = store.get_incident("inc_1")
    assert resolved is not None
    assert resolved == first.model_copy(update={"status": IncidentStatus.RESOLVED})


def test_acknowledge_escalate_and_resolve_are_audited(store: SqlStore, clock: FakeClock) -> None:
    store.open_incident(_incident(clock, "inc_1"))
    clock.advance(300)
    acked = store.update_incident(
        "inc_1", actor="dana", at=clock.now(), status=IncidentStatus.ACKNOWLEDGED, reason="on it"
    )
    assert (acked.status, acked.acked_by, acked.acked_at) == (
        IncidentStatus.ACKNOWLEDGED,
        "dana",
        clock.now(),
    )
    with pytest.raises(RunStateError):
        store.update_incident(
            "inc_1", actor="eve", at=clock.now(), status=IncidentStatus.ACKNOWLEDGED
        )
    escalated = store.update_incident("inc_1", actor="warden", at=clock.now(), escalated=True)
    assert escalated.escalated_at == clock.now()
    store.update_incident("inc_1", actor="dana", at=clock.now(), status=IncidentStatus.RESOLVED)
    with pytest.raises(RunStateError, match="already resolved"):
        store.update_incident("inc_1", actor="dana", at=clock.now(), escalated=True)
    with pytest.raises(NotFoundError):
        store.update_incident("nope", actor="dana", at=clock.now(), escalated=True)
    entries = store.list_audit(agent="a")
    assert [e.action for e in entries] == [
        "incident.opened",
        "incident.acknowledged",
        "incident.escalated",
        "incident.resolved",
    ]
    assert json.loads(entries[1].after)["acked_by"] == "dana"
    assert store.verify_audit().intact
    assert store.list_incidents(since=clock.now() + timedelta(seconds=1)) == []
