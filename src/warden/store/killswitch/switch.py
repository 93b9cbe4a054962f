"""The kill switch in SQL: engage at once (idempotent), release with a second person.

Engaging needs no approval and takes effect at once. Turning an agent back on is a
scope expansion (DESIGN.md; Argo Rollouts' abort is instant, resume is deliberate): one
person requests the release, a different person approves it, and only then is the switch
released. Every step is audited in the same locked transaction; on PostgreSQL every
change is also announced with ``NOTIFY`` so other processes hear of it at once.

On a SQLite file, a kill first writes a kill signal file, which takes effect without the
database's write lock. Then it writes the row and the audit entry (``signal_files``
explains why and how). Releases, requests and approvals go through the database as
before. Each one first records any kill signal that is still waiting to be recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.killswitch import KillSwitchState, ReleaseRequest
from warden.errors import ConfigError, RunStateError, StoreUnavailable
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase
from warden.store.killswitch.pg_listener import CHANNEL, KillSwitchListener
from warden.store.killswitch.signal_files import (
    KillSignal,
    KillSignals,
    effective_state,
    live_signals,
)

__all__ = ["KillSwitchSql"]

log = logging.getLogger("warden.store.killswitch")


class KillSwitchSql(SqlBase):
    """The kill-switch part of ``SqlStore``."""

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """The kill switch of ``agent``; disengaged when never set.

        On a SQLite file a kill signal still waiting for its row engages the switch
        (``signal_files``). The signals are read before the row. When the row cannot be
        read but a signal exists, the switch is engaged.

        Raises:
            StoreUnavailable: The row cannot be read and no signal engages the switch,
                or the signal directory cannot be read.
        """
        kill_signals = self._kill_signals
        if kill_signals is None:
            with self._tx() as conn:
                return self._kill_switch_in(conn, agent)
        try:
            signals = kill_signals.read(agent)
        except OSError as exc:
            raise StoreUnavailable(
                f"the kill signals of {agent} in {kill_signals.directory} cannot be read: {exc}"
            ) from exc
        try:
            with self._tx() as conn:
                row = self._kill_switch_in(conn, agent)
        except StoreUnavailable:
            if signals:
                return signals[0].state()  # fail safe: a kill we can see stands
            raise
        return effective_state(row, signals)

    def set_kill_switch(
        self, agent: str, *, engaged: bool, reason: str, actor: str, at: datetime
    ) -> KillSwitchState:
        """Engage or release at once; setting the state it already has changes nothing.

        Operators release through ``request_release`` / ``approve_release``; this direct
        release is for Warden's own acts (a drill restoring what it flipped). Every real
        change is kept in ``kill_switch_events`` and in the audit log
        (``kill_switch.engaged`` / ``kill_switch.released``) with actor, reason and time.

        On a SQLite file, engaging first writes a kill signal. The kill is in effect for
        every process from that moment, and the row and the audit entry follow when the
        write lock is free (``signal_files``).

        Raises:
            StoreUnavailable: The change could not be recorded. When engaging on SQLite,
                the kill is still in effect through its signal. Running the kill again,
                or any later change of this switch, records it.
            ConfigError: ``at`` is naive, or the database refused a value.
        """
        kill_signals = self._kill_signals
        own: KillSignal | None = None
        if engaged and kill_signals is not None:
            try:
                own = kill_signals.write(agent, reason=reason, actor=actor, at=at)
            except ValueError as exc:
                raise ConfigError(f"the store cannot hold a value: {exc}") from exc
            except OSError as exc:  # the row below still engages it, once it can be written
                log.warning("cannot write the kill signal of %s: %s", agent, exc)
        try:
            with self._kill_tx(agent, at, engaging=engaged) as conn:
                return self._set_in(conn, agent, engaged=engaged, reason=reason, actor=actor, at=at)
        except ConfigError:
            if own is not None and kill_signals is not None:
                kill_signals.remove([own])  # the store refuses this kill's values: no kill
            raise
        except StoreUnavailable as exc:
            if own is None:
                raise
            raise StoreUnavailable(
                f"the kill switch of {agent} is ENGAGED (signal {own.path}) but not yet "
                f"recorded in the store: {exc.message}. Run the kill again to record it; "
                "any later change of this switch also records it."
            ) from exc

    def request_release(
        self, agent: str, *, actor: str, reason: str, at: datetime, principal: str | None = None
    ) -> ReleaseRequest:
        """Ask to turn ``agent`` back on; a different person must approve.

        Args:
            agent: The agent.
            actor: How the request is labelled.
            reason: Why.
            at: When.
            principal: Who asks (``Principal.key``); ``actor`` when None.

        Raises:
            RunStateError: The switch is not engaged.
            StoreUnavailable: The database cannot be reached or its write lock stays busy.
        """
        with self._kill_tx(agent, at) as conn:
            if not self._kill_switch_in(conn, agent).engaged:
                raise RunStateError(f"the kill switch of {agent} is not engaged")
            request = ReleaseRequest(
                agent=agent,
                requested_by=actor,
                reason=reason,
                requested_at=at,
                requested_principal=principal or actor,
            )
            row = request.model_dump(mode="json") | {"requested_at": at}
            self._upsert(conn, t.kill_switch_releases, [row], ["agent"])
            AuditWriter(conn, self.dialect).append(
                AuditDraft(
                    at=at,
                    actor=actor,
                    action="kill_switch.release_requested",
                    agent=agent,
                    reason=reason,
                    after=request.model_dump(mode="json"),
                )
            )
            return request

    def get_release_request(self, agent: str) -> ReleaseRequest | None:
        """The pending request to release ``agent``'s kill switch, or None."""
        with self._tx() as conn:
            return self._release_in(conn, agent)

    def approve_release(
        self, agent: str, *, actor: str, reason: str, at: datetime, principal: str | None = None
    ) -> KillSwitchState:
        """Approve the pending release and turn ``agent`` back on.

        ``principal`` (``actor`` when None) is compared with the asker's principal, never
        the labels: one principal relabelled (``WARDEN_ACTOR``) is still one person.

        Raises:
            RunStateError: No pending request, or the approver is the principal who asked.
            StoreUnavailable: The database cannot be reached or its write lock stays busy.
        """
        with self._kill_tx(agent, at) as conn:
            pending = self._release_in(conn, agent)
            if pending is None:
                raise RunStateError(f"nobody asked to release the kill switch of {agent}")
            if pending.principal == (principal or actor):
                raise RunStateError(
                    f"{principal or actor} asked for this release (as {pending.requested_by}); "
                    "another person must approve it"
                )
            conn.execute(
                sa.delete(t.kill_switch_releases).where(t.kill_switch_releases.c.agent == agent)
            )
            why = (
                f"{reason} (asked by {pending.requested_by} [{pending.principal}]: "
                f"{pending.reason}; released by [{principal or actor}])"
            )
            return self._set_in(conn, agent, engaged=False, reason=why, actor=actor, at=at)

    def watch_kill_switches(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """Call ``callback(agent)`` on every kill-switch change from any process, at once.

        Returns:
            A function that stops watching; None on SQLite (rely on the TTL read).
        """
        if self.dialect != "postgresql":
            return None
        return KillSwitchListener(self.url, callback).stop

    # -- internals ------------------------------------------------------------------------

    @cached_property
    def _kill_signals(self) -> KillSignals | None:
        return None if self.sqlite_file is None else KillSignals.beside(self.sqlite_file)

    @contextmanager
    def _kill_tx(
        self, agent: str, at: datetime, *, engaging: bool = False
    ) -> Generator[Connection, None, None]:
        """A locked transaction on ``agent``'s switch that first folds its kill signals.

        Signals issued up to ``at`` are recorded if one of them is live (the earliest
        one's actor, reason and time, audited). They are deleted once the transaction
        commits, never before: a failed transaction leaves them in effect. When the
        signals cannot be read, a kill (``engaging``) goes on without them. Anything
        else is refused, because it cannot see what it might release.

        Raises:
            ConfigError: ``at`` is naive.
            StoreUnavailable: The database cannot be read, the write lock stays busy, or
                (unless ``engaging``) the signal directory cannot be read.
        """
        folded: list[KillSignal] = []
        kill_signals = self._kill_signals
        if kill_signals is not None and at.tzinfo is None:
            raise ConfigError("the store cannot hold a value: naive datetime; use aware UTC")
        with self._locked_tx() as conn:
            if kill_signals is not None:
                try:
                    signals = kill_signals.read(agent)
                except OSError as exc:
                    if not engaging:
                        raise StoreUnavailable(
                            f"the kill signals of {agent} cannot be read: {exc}"
                        ) from exc
                    log.warning("kill of %s recorded without its kill signals: %s", agent, exc)
                    signals = []
                folded = [s for s in signals if s.at <= at]
                live = live_signals(self._kill_switch_in(conn, agent), folded)
                if live:
                    first = live[0]
                    self._set_in(
                        conn,
                        agent,
                        engaged=True,
                        reason=first.reason,
                        actor=first.actor,
                        at=first.at,
                    )
            yield conn
        if kill_signals is not None and folded:
            kill_signals.remove(folded)

    def _set_in(
        self, conn: Connection, agent: str, *, engaged: bool, reason: str, actor: str, at: datetime
    ) -> KillSwitchState:
        before = self._kill_switch_in(conn, agent)
        if before.engaged == engaged and before.changed_at is not None:
            return before
        row = {
            "agent": agent,
            "engaged": engaged,
            "reason": reason,
            "actor": actor,
            "changed_at": at,
        }
        self._upsert(conn, t.kill_switches, [row], ["agent"])
        conn.execute(
            sa.insert(t.kill_switch_events).values(
                agent=agent, engaged=engaged, reason=reason, actor=actor, at=at
            )
        )
        if not engaged:
            conn.execute(
                sa.delete(t.kill_switch_releases).where(t.kill_switch_releases.c.agent == agent)
            )
        if self.dialect == "postgresql":  # delivered to listeners on commit
            conn.execute(sa.select(sa.func.pg_notify(CHANNEL, agent)))
        after = KillSwitchState.model_validate(row)
        AuditWriter(conn, self.dialect).append(
            AuditDraft(
                at=at,
                actor=actor,
                action="kill_switch.engaged" if engaged else "kill_switch.released",
                agent=agent,
                reason=reason,
                before=before.model_dump(mode="json"),
                after=after.model_dump(mode="json"),
            )
        )
        return after

    @staticmethod
    def _kill_switch_in(conn: Connection, agent: str) -> KillSwitchState:
        row = (
            conn.execute(sa.select(t.kill_switches).where(t.kill_switches.c.agent == agent))
            .mappings()
            .first()
        )
        return KillSwitchState.model_validate(dict(row)) if row else KillSwitchState(agent=agent)

    @staticmethod
    def _release_in(conn: Connection, agent: str) -> ReleaseRequest | None:
        row = (
            conn.execute(
                sa.select(t.kill_switch_releases).where(t.kill_switch_releases.c.agent == agent)
            )
            .mappings()
            .first()
        )
        return ReleaseRequest.model_validate(dict(row)) if row else None
