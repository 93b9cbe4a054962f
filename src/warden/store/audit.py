"""The audit log in SQL: appends inside the transaction that changes the state.

An ``AuditWriter`` is opened at the start of a ``_locked_tx`` (it locks the head row on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the database write lock), so the
state change and its entry commit together or not at all, and concurrent appends are
serialised: the chain never forks.

The audit key (``AuditKey``) is given to the store when it is opened
(``SqlStore(url, audit_key=...)``) and rides on its engine as an execution option, so every
``AuditWriter`` on one of the store's connections MACs its entries and the head with it;
the key never reaches the database.

``RunSeal`` seals the tool calls and policy decisions of the runs a batch of run records
finishes (``RunsSql.apply``): one ``run.decisions`` entry per finished run, in the batch's
own transaction. ``verify_audit`` recomputes them from ``tool_calls``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from warden.core.audit import (
    GENESIS_HASH,
    PRUNED,
    RUN_DECISIONS,
    AuditAnchor,
    AuditDraft,
    AuditEntry,
    AuditHead,
    AuditKey,
    ChainCheck,
    DecisionLine,
    head_mac,
    mode_override_draft,
    run_decisions_draft,
    run_decisions_problem,
    verify_chain,
)
from warden.core.runs import RunStatus
from warden.errors import ConfigError, StoreUnavailable
from warden.store import tables as t
from warden.store.base import SqlBase

__all__ = ["AUDIT_KEY_OPTION", "AuditSql", "AuditWriter", "RunSeal", "audit_key_of"]

_HEAD_ID = 1

AUDIT_KEY_OPTION = "warden_audit_key"
"""The engine execution option that carries the store's ``AuditKey``."""

_IN_CHUNK = 500
"""Ids per ``IN (...)`` list."""

_VERIFY_PAGE = 500
"""``run.decisions`` entries checked per round trip by ``verify_audit``."""


def audit_key_of(conn: Connection) -> AuditKey | None:
    """The audit key of the store ``conn`` belongs to (None: the store has none)."""
    key = conn.get_execution_options().get(AUDIT_KEY_OPTION)
    return key if isinstance(key, AuditKey) else None


# -- the statements of every append, and of ``RunSeal`` on every batch that finishes runs.
# They go straight to the driver (as ``base._begin_immediate`` does): through SQLAlchemy a
# statement costs 40-55 us on SQLite, on the driver 10-20 us, and ``apply`` runs five of
# them whenever a batch finishes a run. Lists of ids are one parameter (a JSON array on
# SQLite, an array on PostgreSQL): an expanding ``IN`` is rewritten by a regular
# expression on every execution.

_P = {"sqlite": "?", "postgresql": "%s"}
_IN_IDS = {"sqlite": "IN (SELECT value FROM json_each(?))"}


def _by_ids(dialect: str, table: str, column: str) -> str:
    """``FROM`` clause of ``table``'s rows whose ``column`` is one of the ids (the one
    parameter ``_rows_of`` passes), and the keyword that adds a condition to it.

    On PostgreSQL a join with ``unnest``, not ``= ANY(array)``: without fresh statistics
    the planner prices ``run_id = ANY`` of a thousand ids as the whole of ``tool_calls`` and
    scans it (measured at 1M tool calls: the audit page's check took 0.6 s); ``unnest`` is
    estimated at 100 rows whatever the statistics, so it probes the index per id.
    """
    if dialect == "postgresql":
        return (
            f"unnest(CAST(%s AS text[])) AS ids(id) JOIN {table} ON {table}.{column} = ids.id "
            "WHERE TRUE"
        )
    return f"{table} WHERE {column} {_IN_IDS[dialect]}"


_VERDICT_RULE = {
    "sqlite": "json_extract(decision, '$.verdict'), json_extract(decision, '$.rule')",
    "postgresql": "decision->>'verdict', decision->>'rule'",
}
_RUNNING = RunStatus.RUNNING.value
_APPEND_SQL = (
    'INSERT INTO audit_log (seq, "at", actor, "action", agent, subject, reason, "before", '
    '"after", prev_hash, "hash", mac) '
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
)


def _stored_time(dialect: str, at: datetime) -> Any:
    """``at`` as ``tables.UTCDateTime`` stores it: on SQLite the naive UTC text SQLAlchemy
    writes (``2026-01-02 03:04:05.000006``), on PostgreSQL the aware datetime."""
    if dialect == "sqlite":
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return at


def _driver(conn: Connection) -> sqlite3.Connection:
    return cast(sqlite3.Connection, conn.connection.driver_connection)


@contextmanager
def _sqlite_errors() -> Generator[None, None, None]:
    """The errors ``SqlBase._tx`` gives for SQLAlchemy's, for statements on the driver."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"store unreachable: {exc}") from exc
    except (sqlite3.IntegrityError, sqlite3.DataError) as exc:
        raise ConfigError(f"the store refused a value: {exc}") from exc


def _fetch(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The rows of ``sql`` (the driver's placeholders), run on the driver's connection."""
    if conn.dialect.name == "sqlite":
        with _sqlite_errors():
            return _driver(conn).execute(sql, params).fetchall()
    return list(conn.exec_driver_sql(sql, params))


def _write(conn: Connection, sql: str, params: tuple[Any, ...]) -> None:
    if conn.dialect.name == "sqlite":
        with _sqlite_errors():
            _driver(conn).execute(sql, params)
    else:
        conn.exec_driver_sql(sql, params)


def _write_many(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if conn.dialect.name == "sqlite":
        with _sqlite_errors():
            _driver(conn).executemany(sql, rows)
    else:
        conn.exec_driver_sql(sql, rows)


def _rows_of(conn: Connection, sql: str, ids: Collection[str]) -> Iterator[Any]:
    """The rows of ``sql`` (one parameter: the ids, see ``_by_ids``) for ``ids``, in chunks."""
    for chunk in _chunks(ids):
        yield from _fetch(
            conn, sql, (json.dumps(chunk),) if conn.dialect.name == "sqlite" else (chunk,)
        )


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    items = list(ids)
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _read_head(conn: Connection, *, lock: bool = False) -> AuditHead | None:
    """The head as stored (None: no head row yet); ``lock``: ``FOR UPDATE`` (PostgreSQL)."""
    sql = f"SELECT seq, hash, mac FROM audit_head WHERE id = {_HEAD_ID}"
    if lock and conn.dialect.name == "postgresql":
        sql += " FOR UPDATE"
    rows = _fetch(conn, sql)
    if not rows:
        return None
    seq, hash, mac = rows[0]
    return AuditHead(seq=int(seq), hash=str(hash), mac=mac)


class AuditWriter:
    """Appends entries within one locked transaction.

    Args:
        conn: The connection of a ``_locked_tx`` (or of the batch that finishes runs).
        dialect: ``sqlite`` or ``postgresql``.
        key: The audit key; default: the store's (``audit_key_of(conn)``).
    """

    def __init__(self, conn: Connection, dialect: str, key: AuditKey | None = None) -> None:
        self.conn = conn
        self.key = key if key is not None else audit_key_of(conn)
        self.head = self._lock_head(dialect)

    def _lock_head(self, dialect: str) -> AuditHead:
        head = _read_head(self.conn, lock=True)
        if head is None:  # a new (or truncated) database: the head starts at the genesis
            ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.audit_head)
            self.conn.execute(
                ins.values(id=_HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing()
            )
            head = _read_head(self.conn, lock=True) or AuditHead()
        return head

    def append(self, draft: AuditDraft) -> AuditEntry:
        """Seal ``draft`` as the next entry, insert it and move the head."""
        return self.append_all([draft])[0]

    def append_all(self, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        """Seal ``drafts`` as the next entries, in order: one insert, one move of the head."""
        entries: list[AuditEntry] = []
        seq, prev = self.head.seq, self.head.hash
        for draft in drafts:
            entry = draft.seal(seq + 1, prev, self.key)
            entries.append(entry)
            seq, prev = entry.seq, entry.hash
        if not entries:
            return entries
        d = self.conn.dialect.name
        rows = [
            (
                *(e.seq, _stored_time(d, e.at), e.actor, e.action, e.agent, e.subject),
                *(e.reason, e.before, e.after, e.prev_hash, e.hash, e.mac),
            )
            for e in entries
        ]
        _write_many(self.conn, _APPEND_SQL.format(p=_P[d]), rows)
        mac = head_mac(self.key, seq, prev) if self.key is not None else None
        p = _P[self.conn.dialect.name]
        _write(
            self.conn,
            f"UPDATE audit_head SET seq = {p}, hash = {p}, mac = {p} WHERE id = {_HEAD_ID}",
            (seq, prev, mac),
        )
        self.head = AuditHead(seq=seq, hash=prev, mac=mac)
        return entries


# -- the decisions of finished runs ---------------------------------------------------------


def decision_lines(conn: Connection, run_ids: Collection[str]) -> dict[str, list[DecisionLine]]:
    """The tool calls of ``run_ids`` as sealed: ``(seq, tool, args_hash, verdict, rule,
    status)``, by run (runs without tool calls are absent). The verdict and rule are read
    from the decision's JSON by the database, without decoding the rest of it."""
    out: dict[str, list[DecisionLine]] = {}
    d = conn.dialect.name
    sql = (
        f"SELECT run_id, seq, tool, args_hash, {_VERDICT_RULE[d]}, status "
        f"FROM {_by_ids(d, 'tool_calls', 'run_id')}"
    )
    for run_id, seq, tool, args_hash, verdict, rule, status in _rows_of(conn, sql, run_ids):
        out.setdefault(run_id, []).append((seq, tool, args_hash, verdict, rule, status))
    return out


def _ended_runs(conn: Connection, run_ids: Collection[str]) -> dict[str, tuple[str, str]]:
    """``run id -> (agent, status)`` of those of ``run_ids`` stored in a terminal state."""
    sql = (
        f"SELECT runs.id, agent, status FROM {_by_ids(conn.dialect.name, 'runs', 'id')} "
        f"AND status <> '{_RUNNING}'"
    )
    return {run_id: (agent, status) for run_id, agent, status in _rows_of(conn, sql, run_ids)}


class RunSeal:
    """Seals the decisions of the runs one part of a batch finishes, in its transaction.

    ``RunSeal.begin`` runs before the part's rows are written: it finds the runs that
    finish now (a terminal record for a run not yet terminal in the store) and finished
    runs whose tool calls the part adds to or changes (a span exported late), and when
    there are any it opens an ``AuditWriter`` (on PostgreSQL that locks the audit head
    first, the lock order of every audited transaction). ``finish`` runs after the rows
    are written and appends one ``run.decisions`` entry per run finishing now (and a
    ``run.mode_override`` entry for one whose mode was forced past the rollout), and one
    per finished run whose tool calls really changed. A replayed batch finishes nothing
    and changes nothing: it appends nothing.
    """

    def __init__(
        self,
        writer: AuditWriter,
        finishing: list[Mapping[str, Any]],
        reopened: dict[str, tuple[str, str]],
        previous: dict[str, list[DecisionLine]],
    ) -> None:
        self.writer = writer
        self.finishing = finishing
        self.reopened = reopened
        self.previous = previous
        self.lines: dict[str, list[DecisionLine]] = {}
        """The tool calls of the runs sealed, by run id (set by ``finish``)."""

    @classmethod
    def begin(
        cls,
        conn: Connection,
        dialect: str,
        runs: Iterable[Mapping[str, Any]],
        tool_run_ids: Iterable[str],
    ) -> RunSeal | None:
        """Before the part's rows are written (None: the part finishes no run).

        Args:
            conn: The batch's connection.
            dialect: ``sqlite`` or ``postgresql``.
            runs: The run rows the part writes (the last record of each run).
            tool_run_ids: The runs of the tool-call rows the part writes.
        """
        running = _RUNNING
        finishing: dict[str, Mapping[str, Any]] = {}
        live: set[str] = set()
        for row in runs:
            if row["status"] == running:
                live.add(row["id"])
            else:
                finishing[row["id"]] = row
        # Tool calls of a run this very part records as running were made while it ran:
        # records arrive in order, so they cannot belong to a run that already ended.
        touched = {run_id for run_id in tool_run_ids if run_id not in live}
        candidates = finishing.keys() | touched
        if not candidates:
            return None
        ended = _ended_runs(conn, candidates)
        new = [row for run_id, row in finishing.items() if run_id not in ended]
        reopened = {run_id: ended[run_id] for run_id in touched if run_id in ended}
        if not new and not reopened:
            return None
        writer = AuditWriter(conn, dialect)
        previous = decision_lines(conn, reopened) if reopened else {}
        return cls(writer, new, reopened, previous)

    def finish(self) -> None:
        """After the part's rows are written: append the entries."""
        ids = [row["id"] for row in self.finishing] + list(self.reopened)
        lines = decision_lines(self.writer.conn, ids)
        self.lines = lines
        now = datetime.now(UTC)
        drafts = [
            run_decisions_draft(
                run_id=row["id"],
                agent=row["agent"],
                status=row["status"],
                lines=lines.get(row["id"], []),
                at=row["ended_at"] or now,
            )
            for row in self.finishing
        ]
        drafts += [
            mode_override_draft(
                run_id=row["id"],
                agent=row["agent"],
                mode=row["mode"],
                spec_hash=row["spec_hash"],
                status=row["status"],
                at=row["ended_at"] or now,
            )
            for row in self.finishing
            if row.get("mode_override")
        ]
        for run_id, (agent, status) in self.reopened.items():
            before = sorted(self.previous.get(run_id, []))
            after = sorted(lines.get(run_id, []))
            if after != before:
                drafts.append(
                    run_decisions_draft(
                        run_id=run_id,
                        agent=agent,
                        status=status,
                        lines=after,
                        at=now,
                        previous=before,
                    )
                )
        self.writer.append_all(drafts)


def _json_object_of(text: str | None) -> dict[str, Any]:
    """``text`` (an entry's JSON) as a dict; empty when missing or not an object."""
    if not text:
        return {}
    try:
        value: Any = json.loads(text)
    except ValueError:
        return {}
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _prunes(conn: Connection) -> list[tuple[int, str | None, datetime]]:
    """``(seq, agent, ended_before)`` of every recorded prune (``store.pruned``)."""
    log = t.audit_log
    out: list[tuple[int, str | None, datetime]] = []
    for seq, agent, after in conn.execute(
        # ``<> run.decisions`` too: it lets the planner read the partial index of acts
        sa.select(log.c.seq, log.c.agent, log.c.after).where(
            log.c.action == PRUNED, log.c.action != RUN_DECISIONS
        )
    ):
        ended_before = _json_object_of(after).get("ended_before")
        if isinstance(ended_before, str):
            out.append((seq, agent, datetime.fromisoformat(ended_before)))
    return out


def _pruned_by(seal: AuditEntry, prunes: list[tuple[int, str | None, datetime]]) -> bool:
    """Whether a prune recorded after ``seal`` covers its run: same agent, and the run
    ended (was sealed) before the prune's cutoff."""
    return any(
        seq > seal.seq and agent == seal.agent and seal.at < ended_before
        for seq, agent, ended_before in prunes
    )


def _check_run_decisions(conn: Connection, check: ChainCheck, after_seq: int = 0) -> ChainCheck:
    """``check`` with every finished run's sealed decisions (in entries after ``after_seq``)
    compared with the store's ``tool_calls`` and ``runs`` (the newest seal of each run),
    first failure in log order."""
    log = t.audit_log
    is_seal = log.c.action == RUN_DECISIONS
    superseded: dict[str, int] = {}  # run -> its newest seal, for runs sealed again
    if after_seq > 0:  # the newest entries only: few, so counted here, on the key's range
        newest: dict[str, int] = {}
        seen_twice: set[str] = set()
        for subject, seq in conn.execute(
            sa.select(log.c.subject, log.c.seq).where(log.c.seq > after_seq, is_seal)
        ):
            if subject in newest:
                seen_twice.add(subject)
            newest[subject] = max(seq, newest.get(subject, 0))
        superseded = {subject: newest[subject] for subject in seen_twice}
    else:
        for subject, seq in conn.execute(
            sa.select(log.c.subject, sa.func.max(log.c.seq))
            .where(is_seal)
            .group_by(log.c.subject)
            .having(sa.func.count() > 1)
        ):
            superseded[subject] = seq
    prunes = _prunes(conn)
    checked = pruned = 0
    while True:
        page = [
            AuditEntry.model_validate(dict(r))
            for r in conn.execute(
                sa.select(log)
                .where(is_seal, log.c.seq > after_seq)
                .order_by(log.c.seq)
                .limit(_VERIFY_PAGE)
            ).mappings()
        ]
        if not page:
            return check.model_copy(update={"runs_checked": checked, "runs_pruned": pruned})
        after_seq = page[-1].seq
        current = [e for e in page if e.subject and superseded.get(e.subject, e.seq) == e.seq]
        ids = [e.subject for e in current if e.subject]
        statuses: dict[str, str] = {}
        sql = f"SELECT runs.id, status FROM {_by_ids(conn.dialect.name, 'runs', 'id')}"
        for run_id, status in _rows_of(conn, sql, ids):
            statuses[run_id] = status
        lines = decision_lines(conn, ids)
        for entry in current:
            run_id = entry.subject or ""
            if run_id not in statuses and _pruned_by(entry, prunes):
                pruned += 1
                continue
            problem = run_decisions_problem(entry, statuses.get(run_id), lines.get(run_id, []))
            if problem is not None:
                return check.model_copy(
                    update={
                        "intact": False,
                        "first_bad_seq": entry.seq,
                        "first_bad_run": run_id,
                        "problem": problem,
                        "runs_checked": checked,
                    }
                )
            checked += 1


class AuditSql(SqlBase):
    """Audit-log methods of ``SqlStore``."""

    @property
    def audit_key(self) -> AuditKey | None:
        """The key this store MACs audit entries with (None: entries are written without)."""
        key = self.engine.get_execution_options().get(AUDIT_KEY_OPTION)
        return key if isinstance(key, AuditKey) else None

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append one entry for an act whose state lives outside the store (e.g. a drill)."""
        with self._locked_tx() as conn:
            return AuditWriter(conn, self.dialect).append(draft)

    def list_audit(
        self,
        *,
        agent: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        actions: Collection[str] | None = None,
        newest: bool = False,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries in ``seq`` order, optionally for one agent, after ``after_seq``: the acts
        of people and of Warden's control, without the ``run.decisions`` entries that seal
        each finished run (``audit_entries(runs=True)`` has those too).

        Args:
            agent: Only entries about this agent.
            after_seq: Keyset cursor: only entries numbered above this.
            limit: At most this many.
            actions: Only entries of these actions (e.g. the kill switch's three); one
                agent's are then read on ``(agent, action, seq)``, not among the
                ``run.decisions`` entries of all its runs.
            newest: With ``limit``, the newest ``limit`` entries (still oldest first).
            before_seq: Only entries numbered below this (paging back from the newest, on
                the partial index of acts).
        """
        if actions is None:
            return self.audit_entries(
                agent=agent, after_seq=after_seq, limit=limit, newest=newest, before_seq=before_seq
            )
        log = t.audit_log
        wanted = sorted(set(actions) - {RUN_DECISIONS})
        q = sa.select(log).where(log.c.seq > after_seq, log.c.action.in_(wanted))
        if before_seq is not None:
            q = q.where(log.c.seq < before_seq)
        if agent is not None:
            q = q.where(log.c.agent == agent)
        q = q.order_by(log.c.seq.desc() if newest else log.c.seq)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        entries = [AuditEntry.model_validate(dict(r)) for r in rows]
        return entries[::-1] if newest else entries

    def audit_entries(
        self,
        *,
        agent: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        runs: bool = False,
        newest: bool = False,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries in ``seq`` order.

        Args:
            agent: Only entries about this agent.
            after_seq: Only entries numbered above this.
            limit: At most this many.
            runs: Include the ``run.decisions`` entries, one per finished run.
            newest: With ``limit``, the newest ``limit`` entries (still oldest first).
            before_seq: Only entries numbered below this (paging back from the newest).
        """
        log = t.audit_log
        q = sa.select(log).where(log.c.seq > after_seq)
        if before_seq is not None:
            q = q.where(log.c.seq < before_seq)
        if not runs:
            q = q.where(log.c.action != RUN_DECISIONS)
        if agent is not None:
            q = q.where(log.c.agent == agent)
        q = q.order_by(log.c.seq.desc() if newest else log.c.seq)
        if limit is not None:
            q = q.limit(limit)
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        entries = [AuditEntry.model_validate(dict(r)) for r in rows]
        return entries[::-1] if newest else entries

    def audit_head(self) -> AuditHead:
        """The newest entry's number, hash and MAC (the genesis when the log is empty)."""
        with self._tx() as conn:
            return _read_head(conn) or AuditHead()

    def audit_anchor(self, *, at: datetime | None = None) -> AuditAnchor:
        """The head as an anchor to keep outside the database (``warden audit anchor``)."""
        with self._snapshot_tx() as conn:
            head = _read_head(conn) or AuditHead()
            row = (
                conn.execute(sa.select(t.audit_log).where(t.audit_log.c.seq == head.seq))
                .mappings()
                .first()
            )
        entry = AuditEntry.model_validate(dict(row)) if row is not None else None
        return AuditAnchor.of(entry, at=at or datetime.now(UTC))

    def verify_audit(self) -> ChainCheck:
        """``check_audit()`` with the store's own key and no anchor."""
        return self.check_audit()

    def check_audit(
        self,
        *,
        key: AuditKey | None = None,
        anchor: AuditAnchor | None = None,
        newest: int | None = None,
    ) -> ChainCheck:
        """Check the log on one snapshot of the database: the chain against the head, the
        MACs (with ``key``, else the store's own; without either, ``warnings`` says
        authenticity was not checked), the ``anchor`` if given, and then the sealed
        decisions of every finished run against ``tool_calls`` and ``runs``.

        Args:
            key: The audit key (default: the store's).
            anchor: A head exported earlier, to check against.
            newest: Check only this many of the newest entries and the runs they seal
                (a page's quick check: its cost does not grow with the log); None: all.
        """
        key = key if key is not None else self.audit_key
        with self._snapshot_tx() as conn:
            head = _read_head(conn) or AuditHead()
            first = 1 if newest is None else max(1, head.seq - newest + 1)
            rows = conn.execute(
                sa.select(t.audit_log)
                # both bounds: a closed range is an index range whatever the statistics
                .where(t.audit_log.c.seq >= first, t.audit_log.c.seq <= head.seq + 1)
                .order_by(t.audit_log.c.seq)
                .execution_options(yield_per=1000)
            ).mappings()
            check = verify_chain(
                (AuditEntry.model_validate(dict(r)) for r in rows),
                head,
                key=key,
                anchor=anchor if first == 1 else None,
                from_seq=first,
            )
            if not check.intact:
                return check
            return _check_run_decisions(conn, check, after_seq=first - 1)
