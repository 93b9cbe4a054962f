"""The kill switch's rows on the database under test: one event and one audit entry per
real change."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from warden.core.clock import FakeClock
from warden.store import SqlStore
from warden.store.tables import kill_switch_events

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_kill_switch_history_keeps_every_real_change(store) -> None:
    store.set_kill_switch("a", engaged=True, reason="r1", actor="x", at=T0)
    store.set_kill_switch("a", engaged=True, reason="r2", actor="y", at=T0)  # no change
    store.set_kill_switch("a", engaged=False, reason="r3", actor="z", at=T0)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(kill_switch_events.c.reason).order_by(kill_switch_events.c.id)
        ).all()
    assert [r.reason for r in rows] == ["r1", "r3"]
    assert store.get_kill_switch("never-set").engaged is False


def test_kill_and_unkill_are_audited_once_per_real_change(
    store: SqlStore, clock: FakeClock
) -> None:
    store.set_kill_switch("a", engaged=True, reason="spike", actor="dana", at=clock.now())
    store.set_kill_switch("a", engaged=True, reason="again", actor="eve", at=clock.now())
    store.set_kill_switch("a", engaged=False, reason="fixed", actor="dana", at=clock.now())
    entries = store.list_audit()
    assert [(e.seq, e.action, e.actor, e.reason) for e in entries] == [
        (1, "kill_switch.engaged", "dana", "spike"),
        (2, "kill_switch.released", "dana", "fixed"),
    ]
    assert json.loads(entries[0].before)["engaged"] is False
    assert json.loads(entries[0].after)["engaged"] is True
    assert entries[1].prev_hash == entries[0].hash
    assert store.audit_head().seq == 2
    assert store.verify_audit().intact
