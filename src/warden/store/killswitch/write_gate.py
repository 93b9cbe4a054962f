"""A turnstile in front of SQLite's write lock, so that state changes are not starved.

SQLite's write lock is not a queue. A waiting writer retries, and its own busy handler
backs off to 100 ms between tries. Several processes that record runs back to back keep
the lock busy almost all the time, so a state change (a kill, a release, an approval
decision) gets it only by luck. The benchmark saw a kill wait more than 10 s.

The gate is an advisory file lock (``flock``) on ``<database>-control/write.gate``:

- Bulk writers (``SqlStore.apply``) **check** it once they hold the write lock and, if it
  is closed, give the lock back and **pass through** it (take it shared and let go at
  once) before they try again. They never hold it while they hold or wait for the
  database.
- A state change **closes** it (exclusive) while it waits for ``BEGIN IMMEDIATE`` and
  opens it once it holds the lock. New batches wait at the gate, so the state change
  waits only for the batches already in flight.

Nothing deadlocks: nobody waits at the gate while holding the database lock, and the
closer gives the gate back after ``_LOCK_WAIT_S`` at most. ``flock`` locks belong to an
open file, so each thread checks through a descriptor of its own (kept open, reopened in
a forked child), and closing opens a new one: two threads sharing one descriptor would
not exclude each other. Where ``fcntl`` does not exist
(Windows), or the gate file cannot be opened or locked (a file system without ``flock``),
the gate does nothing and logs it once. The kill still takes effect through its signal
file (``signal_files``), and only its record may wait longer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Generator
from pathlib import Path
from typing import cast

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

__all__ = ["WriteGate"]

log = logging.getLogger("warden.store.writegate")


class WriteGate:
    """The write gate of one SQLite database.

    Args:
        path: The gate file, ``<database>-control/write.gate``. The file and its
            directory are created on first use.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._disabled = False
        self._local = threading.local()

    @classmethod
    def beside(cls, database: Path) -> WriteGate:
        """The gate of the SQLite database file ``database``."""
        return cls(database.parent / f"{database.name}-control" / "write.gate")

    def pass_through(self) -> None:
        """Wait while a state change holds the gate closed, then go on (bulk writers).

        Two ``flock`` calls (about a microsecond) when the gate is open. While it is
        closed, this waits until it opens, for at most the closer's lock wait (10 s).
        """
        fd = self._thread_fd()
        if fd is None:
            return
        assert fcntl is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            self._unusable(exc)

    def is_closed(self) -> bool:
        """True while a state change holds the gate closed (never waits).

        A bulk writer that got the write lock asks this and, if so, gives the lock back
        and waits at the gate: one that slipped through as the gate closed does not
        make the state change wait for its whole batch.
        """
        fd = self._thread_fd()
        if fd is None:
            return False
        assert fcntl is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            return True
        except OSError as exc:
            self._unusable(exc)
        return False

    @contextlib.contextmanager
    def closed(self) -> Generator[None, None, None]:
        """Hold the gate closed: bulk writers that have not passed yet wait until exit."""
        fd = self._open()
        if fd is None:
            yield
            return
        try:
            assert fcntl is not None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                self._unusable(exc)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _thread_fd(self) -> int | None:
        held = cast(_ThreadFd | None, getattr(self._local, "held", None))
        if held is not None and held.pid == os.getpid():
            return held.fd
        fd = self._open()
        if fd is not None:
            self._local.held = _ThreadFd(fd)
        return fd

    def _open(self) -> int | None:
        if fcntl is None or self._disabled:
            return None
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                return self._unusable(exc)
        except OSError as exc:
            return self._unusable(exc)

    def _unusable(self, exc: OSError) -> None:
        if not self._disabled:
            self._disabled = True
            log.warning("write gate %s unusable, state changes may wait longer: %s", self.path, exc)
        return


class _ThreadFd:
    """One thread's descriptor of the gate file, closed when the thread ends."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
