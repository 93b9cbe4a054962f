"""The audit chain, without a database: sealing, and what ``verify_chain`` reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warden.core.audit import GENESIS_HASH, AuditDraft, AuditEntry, AuditHead, verify_chain

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        draft = AuditDraft(
            at=T0 + timedelta(minutes=i),
            actor="dana",
            action="kill_switch.engaged",
            agent="a",
            reason=f"act {i}",
            before={"engaged": False},
            after={"engaged": True, "n": i},
        )
        entry = draft.seal(i, prev)
        entries.append(entry)
        prev = entry.hash
    return entries


def head_of(entries: list[AuditEntry]) -> AuditHead:
    return AuditHead(seq=entries[-1].seq, hash=entries[-1].hash) if entries else AuditHead()


def test_an_untouched_chain_is_intact() -> None:
    entries = chain(5)
    check = verify_chain(entries, head_of(entries))
    assert check.intact
    assert check.entries == 5
    assert verify_chain([], AuditHead()).intact


def test_sealing_is_deterministic_and_covers_every_field() -> None:
    a, b = chain(1)[0], chain(1)[0]
    assert a.hash == b.hash
    assert a.prev_hash == GENESIS_HASH
    for field, value in [
        ("actor", "mallory"),
        ("action", "kill_switch.released"),
        ("agent", "b"),
        ("subject", "x"),
        ("reason", "other"),
        ("before", "{}"),
        ("after", "{}"),
        ("at", T0),
        ("seq", 7),
    ]:
        assert a.model_copy(update={field: value}).recomputed_hash() != a.hash, field


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditDraft(at=datetime(2026, 1, 1), actor="x", action="y").seal(1, GENESIS_HASH)


def test_an_edited_field_names_that_entry() -> None:
    entries = chain(5)
    head = head_of(entries)
    entries[2] = entries[2].model_copy(update={"reason": "nothing to see"})
    check = verify_chain(entries, head)
    assert not check.intact
    assert check.first_bad_seq == 3
    assert "entry 3 was altered" in check.problem


def test_an_edit_with_a_recomputed_hash_is_caught_by_the_next_entry() -> None:
    entries = chain(5)
    head = head_of(entries)
    forged = entries[1].model_copy(update={"actor": "mallory"})
    entries[1] = forged.model_copy(update={"hash": forged.recomputed_hash()})
    check = verify_chain(entries, head)
    assert (check.intact, check.first_bad_seq) == (False, 2)
    assert "entry 3 recorded a different hash" in check.problem


def test_a_removed_entry_is_named() -> None:
    entries = chain(5)
    head = head_of(entries)
    del entries[1]
    check = verify_chain(entries, head)
    assert (check.intact, check.first_bad_seq) == (False, 2)
    assert "entry 2 was removed" in check.problem


def test_removals_from_the_end_show_against_the_head() -> None:
    entries = chain(5)
    head = head_of(entries)
    check = verify_chain(entries[:3], head)
    assert (check.intact, check.first_bad_seq) == (False, 4)
    assert "entries 4 to 5 removed from the end" in check.problem
    assert verify_chain([], head).first_bad_seq == 1


def test_a_replaced_last_entry_shows_against_the_head() -> None:
    entries = chain(3)
    head = head_of(entries)
    forged = entries[2].model_copy(update={"reason": "forged"})
    entries[2] = forged.model_copy(update={"hash": forged.recomputed_hash()})
    check = verify_chain(entries, head)
    assert (check.intact, check.first_bad_seq) == (False, 3)


def test_an_entry_added_behind_warden_s_back_is_named() -> None:
    entries = chain(3)
    head = head_of(entries[:2])
    check = verify_chain(entries, head)
    assert (check.intact, check.first_bad_seq) == (False, 3)
