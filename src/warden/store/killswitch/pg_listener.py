"""Kill-switch propagation on PostgreSQL: ``LISTEN``/``NOTIFY``.

``set_kill_switch`` sends ``NOTIFY warden_kill_switch, '<agent>'`` in its transaction
(delivered on commit). ``KillSwitchListener`` holds one extra connection per process,
``LISTEN``s on that channel and calls back with the agent name, so a process drops its
cached switch at once instead of waiting for its TTL. It reconnects after an error; while
it is down, the TTL polling every process does anyway still propagates the switch. SQLite
has no equivalent: there the short-TTL read is the mechanism.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import URL

__all__ = ["CHANNEL", "KillSwitchListener"]

log = logging.getLogger("warden.store.notify")

CHANNEL = "warden_kill_switch"
"""The ``NOTIFY`` channel; the payload is the agent name."""


class KillSwitchListener:
    """A daemon thread that ``LISTEN``s for kill-switch changes.

    Args:
        url: The store's SQLAlchemy URL (PostgreSQL).
        callback: Called with the agent name of each change (in the listener's thread).
        retry_s: Seconds between reconnection attempts (default 1).
    """

    def __init__(self, url: URL, callback: Callable[[str], None], *, retry_s: float = 1.0) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.callback = callback
        self.retry_s = retry_s
        self.listening = threading.Event()
        """Set while a connection is listening (tests wait on it)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warden-kill-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (returns at once; the thread ends within a second)."""
        self._stop.set()

    def _run(self) -> None:
        import psycopg  # PostgreSQL only: SQLite stores never load the driver

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.payload)
            except psycopg.Error as exc:
                log.warning("kill-switch listener disconnected (polling still works): %s", exc)
            finally:
                self.listening.clear()
            self._stop.wait(self.retry_s)

    def _deliver(self, agent: str) -> None:
        try:
            self.callback(agent)
        except Exception:
            log.exception("kill-switch callback failed")
