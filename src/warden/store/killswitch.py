"""The kill switch in SQL: engage at once (idempotent), release with a second person.

Engaging needs no approval and takes effect at once. Turning an agent back on is a
scope expansion (DESIGN.md; Argo Rollouts' abort is instant, resume is deliberate): one
person requests the release, a different person approves it, and only then is the switch
released. Every step is audited in the same locked transaction; on PostgreSQL every
change is also announced with ``NOTIFY`` so other processes hear of it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.runs import KillSwitchState, ReleaseRequest
from warden.errors import RunStateError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase
from warden.store.notify import CHANNEL, KillSwitchListener

__all__ = ["KillSwitchSql"]


class KillSwitchSql(SqlBase):
    """The kill-switch part of ``SqlStore``."""

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """The kill switch of ``agent``; disengaged when never set."""
        with self._tx() as conn:
            return self._kill_switch_in(conn, agent)

    def set_kill_switch(
        self, agent: str, *, engaged: bool, reason: str, actor: str, at: datetime
    ) -> KillSwitchState:
        """Engage or release at once; setting the state it already has changes nothing.

        Operators release through ``request_release`` / ``approve_release``; this direct
        release is for Warden's own acts (a drill restoring what it flipped). Every real
        change is kept in ``kill_switch_events`` and in the audit log
        (``kill_switch.engaged`` / ``kill_switch.released``) with actor, reason and time.
        """
        with self._locked_tx() as conn:
            return self._set_in(conn, agent, engaged=engaged, reason=reason, actor=actor, at=at)

    def request_release(
        self, agent: str, *, actor: str, reason: str, at: datetime
    ) -> ReleaseRequest:
        """Ask to turn ``agent`` back on; a different person must approve.

        Raises:
            RunStateError: The switch is not engaged.
        """
        with self._locked_tx() as conn:
            if not self._kill_switch_in(conn, agent).engaged:
                raise RunStateError(f"the kill switch of {agent} is not engaged")
            request = ReleaseRequest(
                agent=agent, requested_by=actor, reason=reason, requested_at=at
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
        self, agent: str, *, actor: str, reason: str, at: datetime
    ) -> KillSwitchState:
        """Approve the pending release and turn ``agent`` back on.

        Raises:
            RunStateError: No pending request, or the approver is the person who asked.
        """
        with self._locked_tx() as conn:
            pending = self._release_in(conn, agent)
            if pending is None:
                raise RunStateError(f"nobody asked to release the kill switch of {agent}")
            if pending.requested_by == actor:
                raise RunStateError(
                    f"{actor} asked for this release; another person must approve it"
                )
            conn.execute(
                sa.delete(t.kill_switch_releases).where(t.kill_switch_releases.c.agent == agent)
            )
            why = f"{reason} (asked by {pending.requested_by}: {pending.reason})"
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
