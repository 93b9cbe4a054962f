"""The batched writer: run records leave the hot path, and none is lost.

``emit`` appends an event to an in-memory queue (a few hundred nanoseconds); a background
thread writes the queue to the store in one transaction every ``flush_interval_s``. The
queue is bounded (``max_queue``): a caller that produces records faster than the store
takes them writes the queue itself inside ``emit``, so it slows to the store's pace
instead of holding an ever larger backlog in memory, whose garbage collections froze a
process for up to 2.6 s (bench/README.md, kill-switch propagation). When
the store cannot be reached, the batch is appended to a local spool file (JSON lines,
fsynced) and the writer is marked unhealthy; each later flush replays the spool first, in
order, so the store sees events in the order they happened. ``flush()`` does the same
synchronously: the runtime calls it before every write tool (write-ahead), so a side
effect never happens without its record being durable, and a write tool does not run
while the store is down (fail closed).

Spool files of processes that died are replayed by the next recorder on the same
directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from warden.core.events import Event, EventAdapter
from warden.core.ports import RuntimeStore
from warden.errors import StoreUnavailable

__all__ = ["Recorder", "Spool"]

log = logging.getLogger("warden.recorder")

_REPLAY_CHUNK = 500


class Spool:
    """Append-only JSON-lines files holding events the store has not acknowledged.

    Args:
        directory: Where spool files live (created on first use).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"spool-{os.getpid()}-{time.time_ns()}.jsonl"
        self._own_pending = False

    def append(self, events: Iterable[Event]) -> None:
        """Append ``events`` durably (flush + fsync)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            for ev in events:
                fh.write(EventAdapter.dump_json(ev) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._own_pending = True

    def reject(self, events: Iterable[Event]) -> Path:
        """Keep events the store refused (not an outage) in a ``rejected-*.jsonl`` file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"rejected-{os.getpid()}-{time.time_ns()}.jsonl"
        with path.open("ab") as fh:
            for ev in events:
                fh.write(EventAdapter.dump_json(ev) + b"\n")
        return path

    @property
    def pending(self) -> bool:
        """True when this spool holds events not yet replayed."""
        return self._own_pending

    def replay(self, store: RuntimeStore, *, include_orphans: bool = False) -> int:
        """Apply spooled events to ``store`` in order, deleting each file once applied.

        Args:
            store: Target store.
            include_orphans: Also replay spool files left by processes that no longer run.

        Returns:
            Number of events replayed.

        Raises:
            StoreUnavailable: The store is still unreachable (files are kept).
        """
        files = [self.path] if self._own_pending else []
        if include_orphans and self.directory.is_dir():
            files += [p for p in sorted(self.directory.glob("spool-*.jsonl")) if _orphan(p)]
        count = 0
        for path in files:
            if not path.exists():
                continue
            claimed = path if path == self.path else _claim(path)
            if claimed is None:
                continue
            count += _replay_file(claimed, store)
            claimed.unlink(missing_ok=True)
            if path == self.path:
                self._own_pending = False
        return count


def _orphan(path: Path) -> bool:
    try:
        pid = int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(path: Path) -> Path | None:
    target = path.with_name(f"replaying-{os.getpid()}-{path.name}")
    try:
        path.rename(target)
    except FileNotFoundError:
        return None  # another process claimed it
    return target


def _replay_file(path: Path, store: RuntimeStore) -> int:
    batch: list[Event] = []
    count = 0
    with path.open("rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                batch.append(EventAdapter.validate_json(line))
            except ValueError:
                log.warning("skipping a corrupt spool line in %s", path)
                continue
            if len(batch) >= _REPLAY_CHUNK:
                store.apply(batch)
                count += len(batch)
                batch = []
    if batch:
        store.apply(batch)
        count += len(batch)
    return count


class Recorder:
    """Queue events and write them to the store in batches, spooling when it is down.

    Args:
        store: Where records go.
        spool_dir: Directory for spool files.
        flush_interval_s: Seconds between background flushes (default 0.05).
        max_batch: Queue length that triggers an early background flush (default 500).
        max_queue: Queue length at which ``emit`` writes the queue itself before it
            returns (default 2,000 events; at least ``max_batch``).
    """

    def __init__(
        self,
        store: RuntimeStore,
        spool_dir: Path,
        *,
        flush_interval_s: float = 0.05,
        max_batch: int = 500,
        max_queue: int = 2_000,
    ) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self.flush_interval_s = flush_interval_s
        self.max_batch = max_batch
        self.max_queue = max(max_queue, max_batch)
        self._queue: deque[Event] = deque()
        self._lock = threading.Lock()  # serialises flushes (order) with the worker
        self._wake = threading.Event()
        self._closed = False
        self.healthy = True
        """False after a failed write until a later flush succeeds."""
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None
        with contextlib.suppress(StoreUnavailable):
            self.spool.replay(store, include_orphans=True)

    def emit(self, event: Event) -> None:
        """Queue ``event``; it reaches the store within about ``flush_interval_s``.

        When ``max_queue`` events are waiting, the caller writes them before it returns
        (back-pressure). If the store is down they are spooled, as in the background,
        and ``emit`` still returns: it never raises for the store.
        """
        self._queue.append(event)
        if self._thread is None:
            self._start()
        queued = len(self._queue)
        if queued >= self.max_batch:
            self._wake.set()
        if queued >= self.max_queue:
            with contextlib.suppress(StoreUnavailable):
                self.flush()

    def flush(self) -> None:
        """Write everything queued (and anything spooled) now.

        Raises:
            StoreUnavailable: The store is unreachable; the events are spooled, not lost.
        """
        with self._lock:
            self._flush_locked()

    def close(self) -> None:
        """Flush and stop the background thread. Unwritten events stay in the spool."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with contextlib.suppress(StoreUnavailable):
            self.flush()

    # -- internals ------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="warden-recorder", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except StoreUnavailable:
                pass  # already spooled; retried on the next tick
            except Exception:  # never let the writer thread die
                log.exception("warden recorder flush failed")

    def _flush_locked(self) -> None:
        batch: list[Event] = []
        while self._queue:
            batch.append(self._queue.popleft())
        try:
            if self.spool.pending:
                self.spool.replay(self.store)
            if batch:
                self.store.apply(batch)
        except StoreUnavailable as exc:
            if batch:
                self.spool.append(batch)
            self.healthy = False
            self.last_error = str(exc)
            raise
        except Exception:
            # The store is up but refused this batch (a bug, not an outage): keep the
            # events in a file for inspection instead of blocking every later write.
            self.spool.reject(batch)
            log.exception(
                "the store rejected %d events; kept in %s", len(batch), self.spool.directory
            )
            return
        self.healthy = True
        self.last_error = None
