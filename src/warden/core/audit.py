"""The audit log: every state-changing act, append-only, each entry chained to the last.

An entry records who did what, when, to which agent, why, and the state before and after
(kill switch flips, approval decisions, rollout stage changes, spec applies and approvals,
incidents, drills). Entries are numbered ``1, 2, 3, ...`` without gaps, and each carries
``prev_hash``, the hash of the entry before it (``GENESIS_HASH`` for the first), and
``hash``, the SHA-256 of its own fields and ``prev_hash``: a hash chain, as in
tamper-evident logs (Schneier and Kelsey, "Secure audit logs to support computer
forensics", ACM TISSEC 2(2), 1999; Crosby and Wallach, "Efficient data structures for
tamper-evident logging", USENIX Security 2009). The store also keeps the *head* (the
number and hash of the newest entry), so removing entries from the end shows too.

Editing a column of an entry changes its hash; recomputing the stored hash breaks the
next entry's ``prev_hash``; removing an entry leaves a gap in the numbers. ``verify_chain``
finds the first such entry. This makes quiet edits evident, not impossible: someone who can
rewrite the whole table and the head can forge a consistent chain; publish the head hash
elsewhere (a ticket, a chat message) to anchor it.

``before`` and ``after`` are kept as canonical JSON text so the bytes hashed are the bytes
stored, on every database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from warden.core.calls import canonical_json

__all__ = [
    "GENESIS_HASH",
    "AuditDraft",
    "AuditEntry",
    "AuditHead",
    "ChainCheck",
    "entry_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry."""


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)


class AuditDraft(_Model):
    """An act to record; the store numbers, chains and seals it."""

    at: datetime
    """When it happened (UTC)."""
    actor: str
    """Who did it (``WARDEN_ACTOR``, an approver, or ``warden`` for automatic acts)."""
    action: str
    """What, as ``subject.verb``: ``kill_switch.engaged``, ``rollout.advanced``, ..."""
    agent: str | None = None
    """The agent acted on, if any."""
    subject: str | None = None
    """The object acted on within the agent: an approval id, a spec hash, an incident id."""
    reason: str = ""
    """Why, in the actor's words."""
    before: Any = None
    """State before the act (any JSON-able value)."""
    after: Any = None
    """State after the act (any JSON-able value)."""

    def seal(self, seq: int, prev_hash: str) -> AuditEntry:
        """This act as entry number ``seq`` following an entry whose hash is ``prev_hash``."""
        unsealed = AuditEntry(
            seq=seq,
            at=_utc(self.at),
            actor=self.actor,
            action=self.action,
            agent=self.agent,
            subject=self.subject,
            reason=self.reason,
            before=canonical_json(self.before),
            after=canonical_json(self.after),
            prev_hash=prev_hash,
            hash="",
        )
        return unsealed.model_copy(update={"hash": unsealed.recomputed_hash()})


class AuditEntry(_Model):
    """One sealed entry of the audit log."""

    seq: int
    """Position in the log: 1, 2, 3, ... without gaps."""
    at: datetime
    actor: str
    action: str
    agent: str | None = None
    subject: str | None = None
    reason: str = ""
    before: str
    """Canonical JSON of the state before."""
    after: str
    """Canonical JSON of the state after."""
    prev_hash: str
    """``hash`` of entry ``seq - 1`` (``GENESIS_HASH`` for entry 1)."""
    hash: str
    """SHA-256 (hex) of every field above; see ``entry_hash``."""

    def recomputed_hash(self) -> str:
        """The hash these fields should have."""
        return entry_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            agent=self.agent,
            subject=self.subject,
            reason=self.reason,
            before=self.before,
            after=self.after,
            prev_hash=self.prev_hash,
        )


class AuditHead(_Model):
    """The newest entry's number and hash, kept apart from the entries."""

    seq: int = 0
    hash: str = GENESIS_HASH


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    agent: str | None,
    subject: str | None,
    reason: str,
    before: str,
    after: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry's fields as canonical JSON (sorted keys, no spaces).

    ``at`` is hashed as ISO 8601 UTC with microseconds, the precision both databases keep.
    """
    doc = {
        "seq": seq,
        "at": _utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "agent": agent,
        "subject": subject,
        "reason": reason,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC)


class ChainCheck(_Model):
    """The result of verifying the audit log."""

    intact: bool
    entries: int
    """Entries read."""
    first_bad_seq: int | None = None
    """Number of the first entry altered or removed (None when intact)."""
    problem: str = ""
    """What is wrong with it, in plain words (empty when intact)."""


def verify_chain(entries: Iterable[AuditEntry], head: AuditHead) -> ChainCheck:
    """Check that ``entries`` (in ``seq`` order) form an unbroken chain ending at ``head``.

    Returns:
        ``intact=True``, or the first entry that was altered or removed and why.
    """
    prev_hash = GENESIS_HASH
    expected = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected:
            if entry.seq > expected:
                gone = (
                    f"entry {expected} was removed"
                    if entry.seq == expected + 1
                    else f"entries {expected} to {entry.seq - 1} were removed"
                )
                return _bad(
                    count, expected, f"{gone} (entry {entry.seq} follows entry {expected - 1})"
                )
            return _bad(count, entry.seq, f"entry {entry.seq} appears out of order or twice")
        if entry.recomputed_hash() != entry.hash:
            return _bad(
                count,
                entry.seq,
                f"entry {entry.seq} was altered (its fields do not match its hash)",
            )
        if entry.prev_hash != prev_hash:
            return _bad(
                count,
                entry.seq - 1,
                f"entry {entry.seq - 1} was altered or replaced "
                f"(entry {entry.seq} recorded a different hash for it)",
            )
        prev_hash = entry.hash
        expected += 1
    last = expected - 1
    if head.seq > last:
        gone = f"entry {last + 1}" if head.seq == last + 1 else f"entries {last + 1} to {head.seq}"
        return _bad(count, last + 1, f"{gone} removed from the end (the head says {head.seq})")
    if head.seq < last:
        return _bad(
            count,
            head.seq + 1,
            f"entry {head.seq + 1} was added outside Warden (the head says {head.seq})",
        )
    if head.hash != prev_hash:
        return _bad(
            count,
            last,
            f"entry {last} was altered or replaced (the head recorded a different hash)",
        )
    return ChainCheck(intact=True, entries=count)


def _bad(count: int, seq: int, problem: str) -> ChainCheck:
    return ChainCheck(intact=False, entries=count, first_bad_seq=seq, problem=problem)
