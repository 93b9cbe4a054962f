"""Rollups: per-minute, per-hour and per-day totals of the runs that ended, kept as they end.

Every metric over a window (kill criteria, SLOs, gates, fleet health, daily charts) reads
``RunTotals`` summed from these buckets, so its cost grows with the window's number of
buckets, not with its number of runs.

- **Written** in the transaction that records a run's end (``RunsSql.apply``, and the
  reaper's ``mark_interrupted``): the runs the batch finishes now are added to their
  minute and hour buckets of ``(agent, spec_hash, mode)``, by ``ended_at``. A replayed
  batch finishes nothing, so it adds nothing. Tool calls recorded after their run ended
  (a late OTLP span) adjust the run's buckets by the difference.
- **Read** exactly: a window ``[since, until)`` is whole days from the day buckets, whole
  hours and then whole minutes at its edges, and the raw runs of its partial first (and
  last) minute, which are at most a minute of runs: a 40-day window reads at most 40 + 2 * 23
  + 2 * 59 buckets, whatever the traffic.
- **Rebuilt** from the raw rows by ``rebuild`` (``warden db rebuild-rollups``; migration
  0008 runs it once on an existing store).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from warden.core.audit import DecisionLine
from warden.core.metrics import RunTotals, latency_bin
from warden.core.runs import RunMode, RunStatus, ToolCallStatus
from warden.store import tables as t

__all__ = [
    "RESOLUTIONS_S",
    "add_ended_runs",
    "adjust_tool_calls",
    "read_totals",
    "read_totals_series",
    "rebuild",
]

MINUTE = 60
HOUR = 3600
DAY = 86_400
RESOLUTIONS_S = (MINUTE, HOUR, DAY)
"""Bucket sizes kept, in seconds (days are UTC days)."""

_R, _L = t.run_rollups, t.run_latency_rollups
_KEY = ("agent", "spec_hash", "mode", "resolution_s", "bucket_start")
_COUNTS = (
    "finished",
    "resolved",
    "escalated",
    "errored",
    "killed",
    "fallback",
    "tool_calls",
    "denied_calls",
    "failed_calls",
    "cost_usd",
    "other_cost_usd",
)
_REBUILD_CHUNK = 5_000


def _floor(at: datetime, seconds: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=at.tzinfo)


def _ceil(at: datetime, seconds: int) -> datetime:
    floor = _floor(at, seconds)
    return floor if floor == at else floor + timedelta(seconds=seconds)


@dataclass
class _Delta:
    """What to add to the buckets: totals, and duration-histogram counts, by bucket key."""

    totals: dict[tuple[Any, ...], RunTotals] = field(
        default_factory=dict[tuple[Any, ...], RunTotals]
    )

    def add(self, agent: str, spec_hash: str, mode: str, at: datetime, part: RunTotals) -> None:
        for res in RESOLUTIONS_S:
            key = (agent, spec_hash, mode, res, _floor(at, res))
            known = self.totals.get(key)
            self.totals[key] = part if known is None else known + part


def _calls(lines: Iterable[DecisionLine]) -> tuple[int, int, int]:
    n = denied = failed = 0
    for line in lines:
        n += 1
        denied += line[5] == ToolCallStatus.DENIED.value
        failed += line[5] == ToolCallStatus.FAILED.value
    return n, denied, failed


def _run_totals(run: Mapping[str, Any], calls: tuple[int, int, int]) -> RunTotals:
    """The totals of one ended run row (``status``, ``mode``, ``cost_usd``, ``latency_s``)."""
    cost = float(run.get("cost_usd") or 0.0)
    status = RunStatus(run["status"])
    if run["mode"] == RunMode.FALLBACK.value:
        return RunTotals(fallback=1, other_cost_usd=cost)
    if status is RunStatus.KILLED:
        return RunTotals(killed=1, other_cost_usd=cost)
    latency = run.get("latency_s")
    n, denied, failed = calls
    return RunTotals(
        finished=1,
        resolved=int(status is RunStatus.RESOLVED),
        escalated=int(status is RunStatus.ESCALATED),
        errored=int(status in (RunStatus.FAILED, RunStatus.INTERRUPTED)),
        tool_calls=n,
        denied_calls=denied,
        failed_calls=failed,
        cost_usd=cost,
        latency={} if latency is None else {latency_bin(float(latency)): 1},
    )


def _write(conn: Connection, delta: _Delta) -> None:
    """Add ``delta`` to the stored buckets (insert, or increment on conflict)."""
    if not delta.totals:
        return
    rows: list[dict[str, Any]] = []
    bins: list[dict[str, Any]] = []
    for key, part in sorted(delta.totals.items(), key=lambda kv: kv[0]):  # lock order
        keys = dict(zip(_KEY, key, strict=True))
        rows.append(keys | {c: getattr(part, c) for c in _COUNTS})
        bins += [keys | {"bin": b, "runs": n} for b, n in sorted(part.latency.items())]
    _increment(conn, _R, rows, _KEY, _COUNTS)
    if bins:
        _increment(conn, _L, bins, (*_KEY, "bin"), ("runs",))


def _increment(
    conn: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    keys: Collection[str],
    counts: Collection[str],
) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counts}
    )
    conn.execute(stmt, rows)


def add_ended_runs(
    conn: Connection, runs: Iterable[Mapping[str, Any]], lines: Mapping[str, list[DecisionLine]]
) -> None:
    """Add runs that end in this transaction to their buckets.

    Args:
        conn: The transaction recording their end.
        runs: Their rows (``id``, ``agent``, ``spec_hash``, ``mode``, ``status``,
            ``ended_at``, ``cost_usd``, ``latency_s``); each run exactly once, ever.
        lines: Their tool calls as stored, by run id.
    """
    delta = _Delta()
    for run in runs:
        if run.get("ended_at") is None:
            continue
        part = _run_totals(run, _calls(lines.get(run["id"], [])))
        delta.add(run["agent"], run["spec_hash"], run["mode"], run["ended_at"], part)
    _write(conn, delta)


def adjust_tool_calls(
    conn: Connection,
    run: Mapping[str, Any],
    before: list[DecisionLine],
    after: list[DecisionLine],
) -> None:
    """Move an ended run's buckets by the change in its tool calls (recorded after it
    ended). ``run`` is its stored row; a run that was not a finished run changes nothing."""
    if run.get("ended_at") is None:
        return
    was = _run_totals(run, _calls(before))
    now = _run_totals(run, _calls(after))
    if not was.finished:
        return
    part = RunTotals(
        tool_calls=now.tool_calls - was.tool_calls,
        denied_calls=now.denied_calls - was.denied_calls,
        failed_calls=now.failed_calls - was.failed_calls,
    )
    if part != RunTotals():
        delta = _Delta()
        delta.add(run["agent"], run["spec_hash"], run["mode"], run["ended_at"], part)
        _write(conn, delta)


# -- reading ---------------------------------------------------------------------------------


def _where(table: sa.Table, agent: str, spec_hash: str | None, mode: RunMode | None) -> list[Any]:
    where: list[Any] = [table.c.agent == agent]
    if spec_hash is not None:
        where.append(table.c.spec_hash == spec_hash)
    if mode is not None:
        where.append(table.c.mode == mode.value)
    return where


def _buckets(
    conn: Connection,
    agent: str,
    resolution: int,
    start: datetime,
    end: datetime | None,
    spec_hash: str | None,
    mode: RunMode | None,
) -> dict[datetime, RunTotals]:
    """Stored buckets of one resolution starting in ``[start, end)``, by start."""
    where = [*_where(_R, agent, spec_hash, mode), _R.c.resolution_s == resolution]
    where.append(_R.c.bucket_start >= start)
    if end is not None:
        where.append(_R.c.bucket_start < end)
    out: dict[datetime, RunTotals] = {}
    cols = [_R.c[c] for c in _COUNTS]
    for row in conn.execute(sa.select(_R.c.bucket_start, *cols).where(*where)):
        part = RunTotals(**dict(zip(_COUNTS, row[1:], strict=True)))
        out[row[0]] = out.get(row[0], RunTotals()) + part
    lw = [*_where(_L, agent, spec_hash, mode), _L.c.resolution_s == resolution]
    lw.append(_L.c.bucket_start >= start)
    if end is not None:
        lw.append(_L.c.bucket_start < end)
    for at, b, n in conn.execute(sa.select(_L.c.bucket_start, _L.c.bin, _L.c.runs).where(*lw)):
        out[at] = out.get(at, RunTotals()) + RunTotals(latency={int(b): int(n)})
    return out


def _raw(
    conn: Connection,
    agent: str,
    start: datetime,
    end: datetime,
    spec_hash: str | None,
    mode: RunMode | None,
) -> RunTotals:
    """The totals of the raw runs that ended in ``[start, end)`` (at most a minute)."""
    r = t.runs
    where = [*_where(r, agent, spec_hash, mode), r.c.ended_at >= start, r.c.ended_at < end]
    runs = [dict(row) for row in conn.execute(sa.select(r).where(*where)).mappings()]
    if not runs:
        return RunTotals()
    tc = t.tool_calls
    calls: dict[str, tuple[int, int, int]] = {}
    q = (
        sa.select(
            tc.c.run_id,
            sa.func.count(),
            sa.func.sum(sa.case((tc.c.status == ToolCallStatus.DENIED.value, 1), else_=0)),
            sa.func.sum(sa.case((tc.c.status == ToolCallStatus.FAILED.value, 1), else_=0)),
        )
        .where(tc.c.run_id.in_([run["id"] for run in runs]))
        .group_by(tc.c.run_id)
    )
    for run_id, n, denied, failed in conn.execute(q):
        calls[run_id] = (int(n), int(denied or 0), int(failed or 0))
    return RunTotals.sum(_run_totals(run, calls.get(run["id"], (0, 0, 0))) for run in runs)


def read_totals(
    conn: Connection,
    agent: str,
    since: datetime,
    until: datetime | None = None,
    *,
    spec_hash: str | None = None,
    mode: RunMode | None = None,
) -> RunTotals:
    """The totals of ``agent``'s runs that ended in ``[since, until)`` (``until`` None: up
    to now), exact: whole days, then whole hours and minutes at the edges, and the raw runs
    of partial minutes.

    Args:
        conn: A connection.
        agent: The agent.
        since: Start of the window (inclusive).
        until: End of the window (exclusive); None: everything since.
        spec_hash: Only runs of this spec version.
        mode: Only runs in this mode.
    """
    if until is not None and until <= since:
        return RunTotals()
    first_minute = _ceil(since, MINUTE)
    if until is not None and until <= first_minute:
        return _raw(conn, agent, since, until, spec_hash, mode)
    parts: list[RunTotals] = []
    if first_minute > since:
        parts.append(_raw(conn, agent, since, first_minute, spec_hash, mode))
    last_minute = _floor(until, MINUTE) if until is not None else None

    def cover(start: datetime, end: datetime | None, levels: tuple[int, ...]) -> None:
        """Add the buckets covering ``[start, end)`` (minute-aligned), coarsest first."""
        size, finer = levels[0], levels[1:]
        if not finer:
            parts.extend(_buckets(conn, agent, size, start, end, spec_hash, mode).values())
            return
        lo = _ceil(start, size)
        hi = _floor(end, size) if end is not None else None
        if hi is not None and hi <= lo:  # no whole unit of this size inside
            cover(start, end, finer)
            return
        if lo > start:
            cover(start, lo, finer)
        # until None: the open unit's bucket holds what ended in it so far
        parts.extend(_buckets(conn, agent, size, lo, hi, spec_hash, mode).values())
        if hi is not None and end is not None and end > hi:
            cover(hi, end, finer)

    if last_minute is None or last_minute > first_minute:
        cover(first_minute, last_minute, (DAY, HOUR, MINUTE))
    if until is not None and last_minute is not None and until > last_minute:
        parts.append(_raw(conn, agent, last_minute, until, spec_hash, mode))
    return RunTotals.sum(parts)


def read_totals_series(
    conn: Connection,
    agent: str,
    since: datetime,
    step: timedelta,
    count: int,
    *,
    spec_hash: str | None = None,
    mode: RunMode | None = None,
) -> list[RunTotals]:
    """Totals of ``count`` consecutive windows of ``step`` from ``since`` (daily charts):
    one read of the day (or hour) buckets when ``since`` and ``step`` are whole days (or
    hours), else one ``read_totals`` per window.

    Raises:
        ValueError: ``step`` is not positive or ``count`` is negative.
    """
    if step <= timedelta(0) or count < 0:
        raise ValueError("step must be positive and count at least 0")
    seconds = int(step.total_seconds())
    size = DAY if _floor(since, DAY) == since and seconds % DAY == 0 else HOUR
    if _floor(since, size) != since or seconds % size:
        return [
            read_totals(
                conn,
                agent,
                since + i * step,
                since + (i + 1) * step,
                spec_hash=spec_hash,
                mode=mode,
            )
            for i in range(count)
        ]
    out = [RunTotals() for _ in range(count)]
    found = _buckets(conn, agent, size, since, since + count * step, spec_hash, mode)
    for at, part in found.items():
        i = int((at - since).total_seconds()) // seconds
        out[i] = out[i] + part
    return out


# -- rebuilding -------------------------------------------------------------------------------


def rebuild(conn: Connection, agent: str | None = None) -> int:
    """Recompute the buckets from the raw runs and tool calls (all agents, or one).

    Run it where no run is being recorded at the same time (``warden db rebuild-rollups``
    holds the store's write lock for its whole transaction).

    Returns:
        The runs counted.
    """
    for table in (_R, _L):
        conn.execute(sa.delete(table).where(table.c.agent == agent) if agent else sa.delete(table))
    r = t.runs
    where: list[Any] = [r.c.ended_at.is_not(None), r.c.status != RunStatus.RUNNING.value]
    if agent is not None:
        where.append(r.c.agent == agent)
    cols = [
        r.c.id,
        r.c.agent,
        r.c.spec_hash,
        r.c.mode,
        r.c.status,
        r.c.ended_at,
        r.c.cost_usd,
        r.c.latency_s,
    ]
    counted = 0
    after: tuple[datetime, str] | None = None
    while True:
        q = sa.select(*cols).where(*where).order_by(r.c.ended_at, r.c.id).limit(_REBUILD_CHUNK)
        if after is not None:
            q = q.where(
                sa.or_(
                    r.c.ended_at > after[0], sa.and_(r.c.ended_at == after[0], r.c.id > after[1])
                )
            )
        runs = [dict(row) for row in conn.execute(q).mappings()]
        if not runs:
            return counted
        tc = t.tool_calls
        lines: dict[str, list[DecisionLine]] = {}
        for run_id, status in conn.execute(
            sa.select(tc.c.run_id, tc.c.status).where(tc.c.run_id.in_([x["id"] for x in runs]))
        ):
            lines.setdefault(run_id, []).append((0, "", "", None, None, status))
        add_ended_runs(conn, runs, lines)
        counted += len(runs)
        after = (runs[-1]["ended_at"], runs[-1]["id"])
