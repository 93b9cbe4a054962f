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
finds the first such entry. The hashes alone make quiet edits evident, not impossible:
``entry_hash`` is public, so someone who can write the database can recompute every hash
and the head. Three things close that:

- **A MAC on every entry** (``mac``): HMAC-SHA256 (RFC 2104) of the entry's hash under an
  ``AuditKey`` that does not live in the database, as Schneier and Kelsey MAC each entry
  (with one fixed key here, not one evolving per entry: no forward security against a
  thief of the key). A rewritten entry needs the key to get a MAC that verifies. The
  head carries a MAC of its own, in another domain, so moving the head back over removed
  entries needs the key too. Entries written before a key existed have no MAC: they are
  *unauthenticated*, not tampered; but once an entry has a MAC every later one must have
  one, so MACs cannot be stripped from the end of the log.
- **The decisions of finished runs** (``run.decisions`` entries, ``decisions_digest``): a
  digest of each finished run's tool calls and their policy decisions, sealed when the run
  ends, so a decision edited later in the runs' own tables shows.
- **Anchors** (``AuditAnchor``): the head (number, hash, MAC, time) written somewhere else;
  ``verify_chain(anchor=...)`` checks the log still holds that entry unchanged, which
  catches a truncation below it and a rewrite even by someone who holds the key.

``before`` and ``after`` are kept as canonical JSON text so the bytes hashed are the bytes
stored, on every database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warden.core.calls import canonical_json
from warden.errors import ConfigError

__all__ = [
    "GENESIS_HASH",
    "MODE_OVERRIDE",
    "PRUNED",
    "RUN_DECISIONS",
    "AuditAnchor",
    "AuditDraft",
    "AuditEntry",
    "AuditHead",
    "AuditKey",
    "ChainCheck",
    "DecisionLine",
    "decisions_digest",
    "entry_hash",
    "entry_mac",
    "head_mac",
    "run_decisions_draft",
    "run_decisions_problem",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry."""

RUN_DECISIONS = "run.decisions"
"""The action of the entry that seals a finished run's tool calls and their decisions."""
PRUNED = "store.pruned"
"""The action of the entry that records raw runs removed by retention."""
MODE_OVERRIDE = "run.mode_override"
"""The action of the entry that records a run whose mode bypassed the rollout."""

_KEY_ID = b"warden.audit.key-id"
_ENTRY = b"warden.audit.entry\x00"
_HEAD = b"warden.audit.head\x00"


class AuditKey:
    """The secret that authenticates the audit log: HMAC-SHA256, kept out of the database.

    Args:
        secret: At least 32 bytes (``WARDEN_AUDIT_KEY``, or the text of the key file).

    Raises:
        ConfigError: The secret is shorter than 32 bytes.
    """

    __slots__ = ("_secret", "key_id")

    MIN_BYTES = 32

    def __init__(self, secret: bytes) -> None:
        if len(secret) < self.MIN_BYTES:
            raise ConfigError(
                f"an audit key needs at least {self.MIN_BYTES} bytes, got {len(secret)}"
            )
        self._secret = secret
        self.key_id: str = hmac.new(secret, _KEY_ID, hashlib.sha256).hexdigest()[:16]
        """A public name of the key (a MAC, so it tells nothing about the secret): each MAC
        starts with it, so an entry sealed with another key is named as such."""

    @classmethod
    def from_text(cls, text: str) -> AuditKey:
        """The key whose secret is ``text`` without surrounding whitespace, as UTF-8."""
        return cls(text.strip().encode())

    def sign(self, domain: bytes, message: str) -> str:
        """``<key_id>:<HMAC-SHA256 hex>`` of ``message`` in ``domain``."""
        mac = hmac.new(self._secret, domain + message.encode(), hashlib.sha256).hexdigest()
        return f"{self.key_id}:{mac}"

    def __repr__(self) -> str:
        return f"AuditKey(key_id={self.key_id!r})"


def entry_mac(key: AuditKey, entry_hash: str) -> str:
    """The MAC of an entry: over its hash, which covers every field and ``prev_hash``."""
    return key.sign(_ENTRY, entry_hash)


def head_mac(key: AuditKey, seq: int, hash: str) -> str:
    """The MAC of the head; another domain than the entries', so an entry's MAC does not
    serve as the head's when someone moves the head back over removed entries."""
    return key.sign(_HEAD, f"{seq}:{hash}")


def _mac_problem(what: str, mac: str, expected: str, key: AuditKey) -> str | None:
    if hmac.compare_digest(mac, expected):
        return None
    sealed_with = mac.split(":", 1)[0]
    if sealed_with != key.key_id:
        return (
            f"{what} was sealed with audit key {sealed_with}, not with this key {key.key_id}: "
            "it was rewritten, or written by a process holding another key"
        )
    return f"{what}'s MAC does not match its contents: it was rewritten without the audit key"


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

    def seal(self, seq: int, prev_hash: str, key: AuditKey | None = None) -> AuditEntry:
        """This act as entry number ``seq`` following an entry whose hash is ``prev_hash``,
        with its MAC under ``key`` (no MAC without one)."""
        at = _utc(self.at)
        before = canonical_json(self.before)
        after = canonical_json(self.after)
        digest = entry_hash(
            seq=seq,
            at=at,
            actor=self.actor,
            action=self.action,
            agent=self.agent,
            subject=self.subject,
            reason=self.reason,
            before=before,
            after=after,
            prev_hash=prev_hash,
        )
        # Every field is already of its type (the draft was validated): no second pass,
        # which matters when a batch of run records seals hundreds of finished runs.
        return AuditEntry.model_construct(
            seq=seq,
            at=at,
            actor=self.actor,
            action=self.action,
            agent=self.agent,
            subject=self.subject,
            reason=self.reason,
            before=before,
            after=after,
            prev_hash=prev_hash,
            hash=digest,
            mac=entry_mac(key, digest) if key is not None else None,
        )


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
    mac: str | None = None
    """``<key id>:<HMAC-SHA256>`` of ``hash`` under the audit key (``entry_mac``); None
    when it was written without a key."""

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
    mac: str | None = None
    """``head_mac`` of ``seq`` and ``hash`` (None when written without a key)."""


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


class AuditAnchor(_Model):
    """The head exported outside the database: ``warden audit anchor`` writes it, and
    ``warden audit verify --anchor FILE`` checks the log still holds it unchanged."""

    seq: int
    """Number of the anchored entry (0: the log was empty)."""
    hash: str
    mac: str | None = None
    """The entry's MAC (None when it was written without a key)."""
    entry_at: datetime | None = None
    """When the anchored entry was written."""
    at: datetime
    """When the head was anchored."""

    @classmethod
    def of(cls, entry: AuditEntry | None, *, at: datetime) -> AuditAnchor:
        """An anchor of ``entry`` (None: the empty log) taken at ``at``."""
        if entry is None:
            return cls(seq=0, hash=GENESIS_HASH, at=_utc(at))
        return cls(seq=entry.seq, hash=entry.hash, mac=entry.mac, entry_at=entry.at, at=_utc(at))


class ChainCheck(_Model):
    """The result of verifying the audit log."""

    intact: bool
    entries: int
    """Entries read."""
    first_bad_seq: int | None = None
    """Number of the first entry altered or removed (None when intact)."""
    problem: str = ""
    """What is wrong with it, in plain words (empty when intact)."""
    key_id: str | None = None
    """The audit key the MACs were checked with; None when authenticity was not checked."""
    unauthenticated: int = 0
    """Entries without a MAC (written before an audit key existed): their hashes were
    checked, their authenticity cannot be."""
    anchor_seq: int | None = None
    """The anchored entry checked (None: no anchor given)."""
    runs_checked: int = 0
    """Finished runs whose tool calls and decisions matched what was sealed."""
    from_seq: int = 1
    """The first entry checked: 1 for the whole log, more for a check of the newest only."""
    runs_pruned: int = 0
    """Sealed runs no longer stored because a recorded prune (``store.pruned``) removed
    them (retention): their seals are checked in the chain, their rows are gone."""
    first_bad_run: str | None = None
    """The first finished run (in log order) whose tool calls or decisions changed."""
    warnings: list[str] = Field(default_factory=list[str])
    """What this check could not establish, in plain words."""


def verify_chain(
    entries: Iterable[AuditEntry],
    head: AuditHead,
    *,
    key: AuditKey | None = None,
    anchor: AuditAnchor | None = None,
    from_seq: int = 1,
) -> ChainCheck:
    """Check that ``entries`` (in ``seq`` order) form an unbroken chain ending at ``head``.

    Without ``key`` the hashes, the numbering and the order of MACs are checked (an entry
    without a MAC after one with a MAC is tampering); with it, every MAC and the head's too.

    Args:
        entries: The whole log, oldest first.
        head: The head as stored.
        key: The audit key (None: authenticity is not checked, and ``warnings`` says so).
        anchor: A head exported earlier; the log must still hold that entry unchanged.
        from_seq: The first entry given (1: the whole log). Above 1 only the newest entries
            are checked: their links to each other and to the head, not to older ones (a
            quick check for a page; ``warden audit verify`` checks the whole log).

    Returns:
        ``intact=True``, or the first entry that was altered, removed or forged and why.
    """
    prev_hash: str | None = GENESIS_HASH if from_seq <= 1 else None
    prev_mac: str | None = None
    first_mac: int | None = None
    expected = max(1, from_seq)
    count = 0
    unauthenticated = 0
    anchored: AuditEntry | None = None

    def bad(seq: int, problem: str) -> ChainCheck:
        return ChainCheck(
            intact=False,
            entries=count,
            first_bad_seq=seq,
            problem=problem,
            key_id=key.key_id if key is not None else None,
            unauthenticated=unauthenticated,
            anchor_seq=anchor.seq if anchor is not None else None,
        )

    for entry in entries:
        count += 1
        if entry.seq != expected:
            if entry.seq > expected:
                gone = (
                    f"entry {expected} was removed"
                    if entry.seq == expected + 1
                    else f"entries {expected} to {entry.seq - 1} were removed"
                )
                return bad(expected, f"{gone} (entry {entry.seq} follows entry {expected - 1})")
            return bad(entry.seq, f"entry {entry.seq} appears out of order or twice")
        if entry.recomputed_hash() != entry.hash:
            return bad(
                entry.seq, f"entry {entry.seq} was altered (its fields do not match its hash)"
            )
        if prev_hash is not None and entry.prev_hash != prev_hash:
            return bad(
                entry.seq - 1,
                f"entry {entry.seq - 1} was altered or replaced "
                f"(entry {entry.seq} recorded a different hash for it)",
            )
        if entry.mac is None:
            if first_mac is not None:
                return bad(
                    entry.seq,
                    f"entry {entry.seq} has no MAC, though entry {first_mac} before it has one: "
                    "its MAC was removed, or a process without the audit key wrote it",
                )
            unauthenticated += 1
        else:
            if first_mac is None:
                first_mac = entry.seq
            if key is not None:
                wrong = _mac_problem(
                    f"entry {entry.seq}", entry.mac, entry_mac(key, entry.hash), key
                )
                if wrong is not None:
                    return bad(entry.seq, wrong)
        if anchor is not None and entry.seq == anchor.seq:
            anchored = entry
        prev_hash = entry.hash
        prev_mac = entry.mac
        expected += 1
    last = expected - 1
    if head.seq > last:
        gone = f"entry {last + 1}" if head.seq == last + 1 else f"entries {last + 1} to {head.seq}"
        return bad(last + 1, f"{gone} removed from the end (the head says {head.seq})")
    if head.seq < last:
        return bad(
            head.seq + 1,
            f"entry {head.seq + 1} was added outside Warden (the head says {head.seq})",
        )
    if head.hash != prev_hash:
        return bad(
            last, f"entry {last} was altered or replaced (the head recorded a different hash)"
        )
    if anchor is not None and anchor.seq > 0:
        when = f"anchored {_utc(anchor.at):%Y-%m-%d %H:%M:%S} UTC"
        if anchored is None:
            return bad(
                last + 1,
                f"the log ends at entry {last}, below the anchor (entry {anchor.seq}, {when}): "
                f"entries {last + 1} to {anchor.seq} were removed",
            )
        if anchored.hash != anchor.hash or (anchor.mac is not None and anchored.mac != anchor.mac):
            return bad(
                anchor.seq,
                f"entry {anchor.seq} differs from the anchor ({when}): "
                f"the log was rewritten at or before entry {anchor.seq}",
            )
    if last > 0:
        if head.mac is None and prev_mac is not None:
            return bad(
                last,
                f"the head has no MAC, though entry {last} has one: the head was moved "
                "without the audit key (entries after it may have been removed)",
            )
        if head.mac is not None and key is not None:
            wrong = _mac_problem("the head", head.mac, head_mac(key, head.seq, head.hash), key)
            if wrong is not None:
                return bad(last, f"{wrong} (entries after entry {last} may have been removed)")
    warnings: list[str] = []
    if key is None:
        warnings.append(
            "authenticity was not checked: no audit key (WARDEN_AUDIT_KEY or "
            "WARDEN_AUDIT_KEY_FILE); the hashes alone do not stop someone who can write "
            "the database from recomputing them all"
        )
    if unauthenticated:
        span = "entry 1 has" if unauthenticated == 1 else f"entries 1 to {unauthenticated} have"
        warnings.append(
            f"{span} no MAC (written before the audit key existed): their hashes were "
            "checked, their authenticity cannot be"
        )
    return ChainCheck(
        intact=True,
        entries=count,
        key_id=key.key_id if key is not None else None,
        unauthenticated=unauthenticated,
        anchor_seq=anchor.seq if anchor is not None else None,
        warnings=warnings,
        from_seq=max(1, from_seq),
    )


# -- the decisions of finished runs ------------------------------------------------------

DecisionLine = tuple[int, str, str, str | None, str | None, str]
"""One tool call as sealed: ``(seq, tool, args_hash, verdict, rule, status)``; verdict and
rule are None when the call never reached the policy."""


def decisions_digest(lines: Iterable[DecisionLine]) -> str:
    """SHA-256 (hex) of a run's tool calls with their decisions, as canonical JSON in step
    order (the order given does not matter)."""
    ordered = sorted(lines, key=lambda line: line[0])
    return hashlib.sha256(canonical_json(ordered).encode()).hexdigest()


def _decisions_doc(status: str, lines: list[DecisionLine]) -> dict[str, Any]:
    return {"status": status, "tool_calls": len(lines), "digest": decisions_digest(lines)}


def run_decisions_draft(
    *,
    run_id: str,
    agent: str,
    status: str,
    lines: list[DecisionLine],
    at: datetime,
    previous: list[DecisionLine] | None = None,
) -> AuditDraft:
    """The entry that seals a finished run's tool calls and decisions (``RUN_DECISIONS``).

    Args:
        run_id: The run (the entry's ``subject``).
        agent: Its agent.
        status: Its terminal status.
        lines: Its tool calls as stored, as ``DecisionLine``s.
        at: When it ended (or when its tool calls changed after it ended).
        previous: Its tool calls before this change, when they changed after it ended
            (a span exported late, say); the entry then supersedes the run's earlier one.
    """
    n = len(lines)
    return AuditDraft(
        at=at,
        actor="warden",
        action=RUN_DECISIONS,
        agent=agent,
        subject=run_id,
        reason=f"run ended {status} after {n} tool call{'' if n == 1 else 's'}"
        if previous is None
        else "tool calls recorded after the run ended",
        before=_decisions_doc(status, previous) if previous is not None else None,
        after=_decisions_doc(status, lines),
    )


def mode_override_draft(
    *, run_id: str, agent: str, mode: str, spec_hash: str, status: str, at: datetime
) -> AuditDraft:
    """The entry that records a finished run forced to ``mode`` past the rollout
    (``Governor.run(mode=..., dangerously_override_rollout=True)``; ``MODE_OVERRIDE``).

    Args:
        run_id: The run (the entry's ``subject``).
        agent: Its agent.
        mode: The mode it was forced to (``live`` or ``shadow``).
        spec_hash: The spec version it ran under.
        status: Its terminal status.
        at: When it ended.
    """
    return AuditDraft(
        at=at,
        actor=f"agent:{agent}",
        action=MODE_OVERRIDE,
        agent=agent,
        subject=run_id,
        reason=f"run forced to {mode} past the rollout (dangerously_override_rollout)",
        after={"mode": mode, "spec_hash": spec_hash, "status": status},
    )


def run_decisions_problem(
    entry: AuditEntry, status: str | None, lines: list[DecisionLine]
) -> str | None:
    """What differs between the sealed ``entry`` and the run as stored now (``status``
    None: the run is gone), in plain words; None when they match."""
    run_id = entry.subject
    sealed = _json_object(entry.after)
    if status is None:
        return f"run {run_id} was removed (its decisions were sealed in entry {entry.seq})"
    now = _decisions_doc(status, lines)
    if now == sealed:
        return None
    what: list[str] = []
    if sealed.get("status") != status:
        what.append(f"it ended {sealed.get('status')}, the runs table now says {status}")
    if sealed.get("tool_calls") != now["tool_calls"]:
        what.append(f"{sealed.get('tool_calls')} tool calls were sealed, {len(lines)} are stored")
    elif sealed.get("digest") != now["digest"]:
        what.append("a tool call's tool, arguments, policy decision or status was changed")
    return (
        f"run {run_id}'s tool calls no longer match the decisions sealed in entry {entry.seq}: "
        + "; ".join(what)
    )


def _json_object(text: str) -> dict[str, Any]:
    """``text`` (canonical JSON) as a dict; an empty dict when it is not an object."""
    value: Any = json.loads(text)
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]
