"""Scope changes on the database under test: a later apply supersedes a pending one, an
approval is a compare-and-set from pending, and the newest applied change is in force."""

from __future__ import annotations

import json

import pytest

from warden.core.clock import FakeClock
from warden.core.scope import ChangeKind, ChangeStatus, DiffItem, SpecChange
from warden.errors import NotFoundError, RunStateError
from warden.store import SqlStore


def _change(
    clock: FakeClock, change_id: str, to_hash: str, status: ChangeStatus, kind: ChangeKind
) -> SpecChange:
    return SpecChange(
        id=change_id,
        agent="a",
        from_hash=None,
        to_hash=to_hash,
        version=change_id,
        kind=kind,
        items=[DiffItem(path="tools.refund", kind=kind, detail="'read' -> 'write'")],
        status=status,
        applied_by="alice",
        created_at=clock.now(),
    )


def test_a_later_apply_supersedes_a_pending_change(store: SqlStore, clock: FakeClock) -> None:
    store.record_spec_change(
        _change(clock, "c1", "1" * 64, ChangeStatus.APPLIED, ChangeKind.INITIAL)
    )
    clock.advance(60)
    store.record_spec_change(
        _change(clock, "c2", "2" * 64, ChangeStatus.PENDING, ChangeKind.EXPANSION)
    )
    clock.advance(60)
    store.record_spec_change(
        _change(clock, "c3", "3" * 64, ChangeStatus.PENDING, ChangeKind.EXPANSION)
    )
    assert [(c.id, c.status) for c in store.list_spec_changes("a")] == [
        ("c1", ChangeStatus.APPLIED),
        ("c2", ChangeStatus.SUPERSEDED),
        ("c3", ChangeStatus.PENDING),
    ]
    current = store.current_spec_change("a")
    assert current is not None and current.id == "c1"
    with pytest.raises(RunStateError, match="superseded"):
        store.approve_spec_change("c2", actor="bob", at=clock.now())


def test_approving_puts_the_change_in_force_once(store: SqlStore, clock: FakeClock) -> None:
    store.record_spec_change(
        _change(clock, "c1", "1" * 64, ChangeStatus.APPLIED, ChangeKind.INITIAL)
    )
    store.record_spec_change(
        _change(clock, "c2", "2" * 64, ChangeStatus.PENDING, ChangeKind.EXPANSION)
    )
    clock.advance(60)
    approved = store.approve_spec_change("c2", actor="bob", at=clock.now(), reason="ok")
    assert (approved.status, approved.approved_by, approved.approved_at) == (
        ChangeStatus.APPLIED,
        "bob",
        clock.now(),
    )
    current = store.current_spec_change("a")
    assert current is not None and current.id == "c2"
    with pytest.raises(RunStateError, match="not pending"):
        store.approve_spec_change("c2", actor="carol", at=clock.now())
    with pytest.raises(NotFoundError):
        store.approve_spec_change("nope", actor="carol", at=clock.now())
    assert [c.id for c in store.find_spec_changes("2" * 12)] == ["c2"]
    assert [c.id for c in store.find_spec_changes("c1")] == ["c1"]
    entries = store.list_audit(agent="a")
    assert [(e.action, e.actor) for e in entries] == [
        ("spec.apply", "alice"),
        ("spec.apply", "alice"),
        ("spec.approve", "bob"),
    ]
    assert json.loads(entries[2].before)["to_hash"] == "1" * 64
    assert store.verify_audit().intact
