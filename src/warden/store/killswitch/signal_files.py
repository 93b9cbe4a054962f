"""Kill signals on SQLite: a kill takes effect before its row can be written.

SQLite has one write lock per database. Processes that record runs back to back can
hold it for seconds, and SQLite does not queue waiters fairly, so a kill that had to
write its row first would wait behind them. So on SQLite, ``set_kill_switch`` first writes a
**kill signal**: one small JSON file per kill in ``<database>-control/kill-signals/``,
written to a temporary name, fsynced and renamed into place. That needs no database lock,
and readers never see half a file. Then it writes the row, the event and the audit entry
in a locked transaction, and deletes the file only after that commit.

Reading (``effective_state``): the row wins when it says engaged. Otherwise the earliest
**live** signal engages the switch. A signal is live while no change of the row is newer
than it (``signal.at > row.changed_at``). So a kill that is waiting for its row, or whose
process died before writing it, keeps the agent stopped. A signal left over from before
a later release does not. Readers list the signals *before* they read the row. A signal
is deleted only after its row commits, so a reader that no longer finds it will find the
row.

Every locked kill-switch transaction first **folds** the signals issued up to its own time
(``at``). If one is live and the row is not engaged, it records that engage with the
signal's actor, reason and time, and audits it. After the commit it deletes the signals it
folded. A signal issued after a release's ``at`` is left in place and stays live.

PostgreSQL does not need any of this. There, writes of run records lock only their own
rows, and a kill waits only for other audited state changes (the audit head row), so it
is written directly and announced with ``NOTIFY``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from warden.core.killswitch import KillSwitchState

__all__ = ["KillSignal", "KillSignals", "effective_state", "live_signals"]

log = logging.getLogger("warden.store.killsignal")

_SUFFIX = ".json"


@dataclass(frozen=True)
class KillSignal:
    """One kill waiting to be recorded, or recorded and not yet deleted.

    Attributes:
        path: The signal file.
        agent: Agent name.
        reason: Why, as given to ``warden kill``.
        actor: Who killed it.
        at: When the kill was issued (timezone-aware UTC).
    """

    path: Path
    agent: str
    reason: str
    actor: str
    at: datetime

    def state(self) -> KillSwitchState:
        """The engaged switch this signal stands for."""
        return KillSwitchState(
            agent=self.agent, engaged=True, reason=self.reason, actor=self.actor, changed_at=self.at
        )


def live_signals(row: KillSwitchState, signals: Iterable[KillSignal]) -> list[KillSignal]:
    """The signals that engage the switch over ``row``, earliest first.

    None when the row is engaged, because the row already says it. A signal is live when
    the row has never changed or its last change is older than the signal.
    """
    if row.engaged:
        return []
    return sorted(
        (s for s in signals if row.changed_at is None or s.at > row.changed_at),
        key=lambda s: (s.at, s.path.name),
    )


def effective_state(row: KillSwitchState, signals: Iterable[KillSignal]) -> KillSwitchState:
    """What the switch is: ``row`` unless a live signal engages it (the earliest wins)."""
    live = live_signals(row, signals)
    return live[0].state() if live else row


class KillSignals:
    """The kill-signal files of one SQLite database.

    Args:
        directory: Where signal files live: ``<database>-control/kill-signals``. Created
            on the first write.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def beside(cls, database: Path) -> KillSignals:
        """The signals of the SQLite database file ``database``."""
        return cls(database.parent / f"{database.name}-control" / "kill-signals")

    def write(self, agent: str, *, reason: str, actor: str, at: datetime) -> KillSignal:
        """Write a kill signal: it takes effect for every reader at once.

        The file is written under a temporary name, fsynced and renamed, so a reader
        sees all of it or none of it.

        Args:
            agent: Agent name.
            reason: Why (recorded).
            actor: Who.
            at: When, timezone-aware.

        Returns:
            The signal written.

        Raises:
            ValueError: ``at`` is naive.
            OSError: The file cannot be written (the caller still writes the row).
        """
        if at.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        at = at.astimezone(UTC)
        self.directory.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        body = {
            "agent": agent,
            "engaged": True,
            "reason": reason,
            "actor": actor,
            "at": at.isoformat(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        tmp = self.directory / f".{token}.tmp"
        # The write time orders kills issued with the same ``at``: the first one wins.
        path = self.directory / f"{_prefix(agent)}{time.time_ns():020d}-{token}{_SUFFIX}"
        with tmp.open("wb") as fh:
            fh.write(json.dumps(body).encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return KillSignal(path=path, agent=agent, reason=reason, actor=actor, at=at)

    def read(self, agent: str) -> list[KillSignal]:
        """The signal files of ``agent``, earliest first. When there are none, the cost is
        one directory listing (a few microseconds).

        A file that cannot be parsed still counts as a kill. Its time is the file's
        modification time, because reading the switch must never make it look live.

        Raises:
            OSError: The directory exists but cannot be listed or a file cannot be read
                (the caller treats the switch as unreadable).
        """
        prefix = _prefix(agent)
        try:
            names = [
                e.name
                for e in os.scandir(self.directory)
                if e.name.startswith(prefix) and e.name.endswith(_SUFFIX)
            ]
        except FileNotFoundError:
            return []
        found: list[KillSignal] = []
        for name in names:
            signal = self._load(self.directory / name, agent)
            if signal is not None:
                found.append(signal)
        return sorted(found, key=lambda s: (s.at, s.path.name))

    @staticmethod
    def remove(signals: Sequence[KillSignal]) -> None:
        """Delete signals whose kill is recorded (best effort: a file left behind is no
        longer live once the row changes after it, and the next fold deletes it)."""
        for s in signals:
            try:
                s.path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot delete the kill signal %s: %s", s.path, exc)

    @staticmethod
    def _load(path: Path, agent: str) -> KillSignal | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None  # recorded and deleted since the listing
        try:
            data = json.loads(raw)
            at = datetime.fromisoformat(data["at"])
            if at.tzinfo is None:
                raise ValueError("naive time")
            return KillSignal(
                path=path,
                agent=agent,
                reason=str(data["reason"]),
                actor=str(data["actor"]),
                at=at.astimezone(UTC),
            )
        except (ValueError, KeyError, TypeError):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                return None
            log.warning("unreadable kill signal %s: counted as a kill", path)
            return KillSignal(
                path=path,
                agent=agent,
                reason=f"unreadable kill signal {path.name}",
                actor="unknown",
                at=datetime.fromtimestamp(mtime, UTC),
            )


def _prefix(agent: str) -> str:
    # quote(safe="") encodes "/" and "+", so no agent's prefix is another's.
    return quote(agent, safe="") + "+"
