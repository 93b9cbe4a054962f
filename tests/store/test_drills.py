"""Drills on the database under test: stored with an audit entry, newest first."""

from __future__ import annotations

import json
from datetime import timedelta

from warden.core.clock import FakeClock
from warden.core.incidents import Drill
from warden.store import SqlStore


def test_a_drill_is_stored_and_audited(store: SqlStore, clock: FakeClock) -> None:
    def drill(drill_id: str, hours: int, *, passed: bool) -> Drill:
        start = clock.now() + timedelta(hours=hours)
        return Drill(
            id=drill_id,
            agent="a",
            actor="dana",
            started_at=start,
            ended_at=start + timedelta(seconds=5),
            passed=passed,
            propagation_s=0.4 if passed else None,
            runs=3,
            rerouted=3 if passed else 0,
            detail="3/3 rerouted" if passed else "0/3 rerouted",
            routing_keys=["k1", "k2", "k3"],
        )

    first = store.record_drill(drill("d1", 0, passed=False))
    second = store.record_drill(drill("d2", 1, passed=True))
    assert store.list_drills("a") == [second, first]
    assert store.list_drills("b") == []
    entries = store.list_audit(agent="a")
    assert [(e.action, e.subject, e.actor) for e in entries] == [
        ("drill.kill_switch", "d1", "dana"),
        ("drill.kill_switch", "d2", "dana"),
    ]
    assert json.loads(entries[1].after) == {
        "passed": True,
        "propagation_s": 0.4,
        "runs": 3,
        "rerouted": 3,
    }
    assert store.verify_audit().intact
