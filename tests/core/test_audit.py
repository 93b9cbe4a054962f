"""The audit chain, without a database: sealing, and what ``verify_chain`` reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warden.core.audit import (
    GENESIS_HASH,
    AuditAnchor,
    AuditDraft,
    AuditEntry,
    AuditHead,
    AuditKey,
    decisions_digest,
    entry_mac,
    head_mac,
    verify_chain,
)
from warden.errors import ConfigError

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


# -- authenticity: a MAC under a key that does not live in the database ------------------

KEY = AuditKey(b"k" * 32)
OTHER_KEY = AuditKey(b"o" * 32)


def keyed_chain(n: int, key: AuditKey | None = KEY, start: list[AuditEntry] | None = None):
    """``n`` entries sealed with ``key`` after ``start``, and the head a writer with it leaves."""
    entries = list(start or [])
    prev = entries[-1].hash if entries else GENESIS_HASH
    for i in range(len(entries) + 1, len(entries) + n + 1):
        draft = AuditDraft(
            at=T0 + timedelta(minutes=i), actor="dana", action="kill_switch.engaged", reason=str(i)
        )
        entries.append(draft.seal(i, prev, key))
        prev = entries[-1].hash
    last = entries[-1]
    mac = head_mac(key, last.seq, last.hash) if key is not None else None
    return entries, AuditHead(seq=last.seq, hash=last.hash, mac=mac)


def rehash_from(
    entries: list[AuditEntry], head: AuditHead, seq: int, **edit: object
) -> tuple[list[AuditEntry], AuditHead]:
    """What a database writer without the key can do: edit entry ``seq``, recompute every
    hash after it with the package's own ``entry_hash`` (the MACs stay), move the head."""
    out = entries[: seq - 1]
    prev = out[-1].hash if out else GENESIS_HASH
    for e in entries[seq - 1 :]:
        e = e.model_copy(update=(edit if e.seq == seq else {}) | {"prev_hash": prev})
        e = e.model_copy(update={"hash": e.recomputed_hash()})
        out.append(e)
        prev = e.hash
    return out, head.model_copy(update={"seq": out[-1].seq, "hash": out[-1].hash})


def test_a_rewritten_chain_passes_the_hash_check_but_fails_the_mac_at_the_first_rewrite() -> None:
    entries, head = keyed_chain(5)
    forged, head = rehash_from(entries, head, 3, actor="mallory")
    unkeyed = verify_chain(forged, head)
    assert unkeyed.intact and unkeyed.key_id is None  # the hashes alone cannot tell
    assert any("authenticity was not checked" in w for w in unkeyed.warnings)
    check = verify_chain(forged, head, key=KEY)
    assert (check.intact, check.first_bad_seq) == (False, 3)
    assert "entry 3" in check.problem and "MAC" in check.problem


def test_an_intact_keyed_chain_reports_the_key_and_no_warnings() -> None:
    entries, head = keyed_chain(4)
    check = verify_chain(entries, head, key=KEY)
    assert check.intact
    assert (check.key_id, check.unauthenticated, check.warnings) == (KEY.key_id, 0, [])
    assert all(e.mac is not None and e.mac.startswith(KEY.key_id + ":") for e in entries)


def test_entries_written_before_the_key_existed_are_unauthenticated_not_tampered() -> None:
    old, _ = keyed_chain(3, key=None)
    entries, head = keyed_chain(2, start=old)
    check = verify_chain(entries, head, key=KEY)
    assert check.intact
    assert check.unauthenticated == 3
    assert any("entries 1 to 3" in w and "no MAC" in w for w in check.warnings)


def test_a_mac_removed_after_the_first_authenticated_entry_is_tampering() -> None:
    entries, head = keyed_chain(4)
    entries[2] = entries[2].model_copy(update={"mac": None})
    for key in (None, KEY):  # no key is needed to see it
        check = verify_chain(entries, head, key=key)
        assert (check.intact, check.first_bad_seq) == (False, 3)
        assert "no MAC" in check.problem


def test_an_entry_sealed_with_another_key_names_both_keys() -> None:
    entries, head = keyed_chain(3, key=OTHER_KEY)
    check = verify_chain(entries, head, key=KEY)
    assert (check.intact, check.first_bad_seq) == (False, 1)
    assert OTHER_KEY.key_id in check.problem and KEY.key_id in check.problem


def test_truncating_the_end_and_moving_the_head_needs_the_key() -> None:
    entries, _ = keyed_chain(5)
    cut = entries[:3]
    moved = AuditHead(seq=3, hash=cut[-1].hash, mac=cut[-1].mac)  # the entry's MAC: wrong domain
    assert verify_chain(cut, moved).intact  # the hash chain alone cannot tell
    check = verify_chain(cut, moved, key=KEY)
    assert (check.intact, check.first_bad_seq) == (False, 3)
    assert "head" in check.problem
    stripped = verify_chain(cut, AuditHead(seq=3, hash=cut[-1].hash), key=KEY)
    assert not stripped.intact and "head" in stripped.problem


def test_the_key_is_not_in_its_repr_and_short_keys_are_refused() -> None:
    assert "kkkk" not in repr(KEY) and KEY.key_id in repr(KEY)
    with pytest.raises(ConfigError, match="32"):
        AuditKey(b"short")
    assert entry_mac(KEY, "ab" * 32) != entry_mac(OTHER_KEY, "ab" * 32)
    assert entry_mac(KEY, "ab" * 32) != head_mac(KEY, 1, "ab" * 32)


# -- anchors: a head kept outside the database ---------------------------------------------


def test_an_anchor_catches_truncation_below_it_and_a_rewrite_even_without_the_key() -> None:
    entries, head = keyed_chain(6)
    anchor = AuditAnchor.of(entries[3], at=T0)
    assert verify_chain(entries, head, anchor=anchor).intact
    assert verify_chain(entries, head, anchor=anchor).anchor_seq == 4
    # truncated below the anchor, head moved (a writer with the key could do this much)
    cut = entries[:2]
    check = verify_chain(cut, AuditHead(seq=2, hash=cut[-1].hash), anchor=anchor)
    assert (check.intact, check.first_bad_seq) == (False, 3)
    assert "anchor" in check.problem
    # rewritten from entry 2, re-hashed
    forged, forged_head = rehash_from(entries, head, 2, reason="nothing happened")
    check = verify_chain(forged, forged_head, anchor=anchor)
    assert (check.intact, check.first_bad_seq) == (False, 4)
    assert "anchor" in check.problem


def test_an_anchor_round_trips_as_json() -> None:
    entries, _ = keyed_chain(2)
    anchor = AuditAnchor.of(entries[-1], at=T0)
    again = AuditAnchor.model_validate_json(anchor.model_dump_json())
    assert again == anchor
    assert (again.seq, again.hash, again.mac) == (2, entries[-1].hash, entries[-1].mac)


# -- decisions of finished runs ------------------------------------------------------------


def test_the_decisions_digest_is_order_free_and_covers_each_field() -> None:
    a = (1, "refund", "h1", "deny", "access", "denied")
    b = (3, "lookup", "h2", "allow", "access", "succeeded")
    assert decisions_digest([a, b]) == decisions_digest([b, a])
    assert decisions_digest([]) != decisions_digest([a])
    for i, value in enumerate([2, "other", "h9", "allow", "rate_limit", "succeeded"]):
        changed = tuple(value if j == i else v for j, v in enumerate(a))
        assert decisions_digest([changed, b]) != decisions_digest([a, b]), i
    no_decision = (1, "refund", "h1", None, None, "invalid")
    assert decisions_digest([no_decision]) != decisions_digest([a])
