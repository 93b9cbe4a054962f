"""Rollout state in SQL: each agent's stage, its transitions, enrolling a new version.

A transition is a compare-and-set on ``rollout_states.version`` inside a locked
transaction that also inserts the transition (primary key ``agent, version``: a second
writer of the same version cannot slip in) and its audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.audit import AuditDraft
from warden.core.rollout import RolloutState, RolloutTransition, enrollment
from warden.core.runs import SpecVersion
from warden.errors import TransitionConflict
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["RolloutSql"]


class RolloutSql(SqlBase):
    """Rollout methods of ``SqlStore``."""

    def get_rollout(self, agent: str) -> RolloutState | None:
        """The rollout of ``agent``, or None when it has none."""
        with self._tx() as conn:
            return _rollout_in(conn, agent)

    def save_rollout(
        self,
        state: RolloutState,
        *,
        expected_version: int | None,
        transition: RolloutTransition,
    ) -> RolloutState:
        """Write ``state`` if the stored version is still ``expected_version``.

        Args:
            state: The new state; its ``version`` must be ``expected_version + 1`` (1 new).
            expected_version: The version read before deciding; None to create the rollout.
            transition: The change, recorded with the state and in the audit log.

        Raises:
            TransitionConflict: The rollout changed since it was read (or already exists).
        """
        if state.version != (expected_version or 0) + 1 or transition.version != state.version:
            raise ValueError("the new state's version must be the expected version plus one")
        row = state.model_dump(mode="json") | {
            "stage_since": state.stage_since,
            "updated_at": state.updated_at,
        }
        with self._locked_tx() as conn:
            audit = AuditWriter(conn, self.dialect)
            before = _rollout_in(conn, state.agent)
            if expected_version is None:
                if before is not None:
                    raise TransitionConflict(
                        f"{state.agent} already has a rollout ({before.stage})"
                    )
                conn.execute(sa.insert(t.rollout_states).values(**row))
            else:
                res = conn.execute(
                    sa.update(t.rollout_states)
                    .where(
                        t.rollout_states.c.agent == state.agent,
                        t.rollout_states.c.version == expected_version,
                    )
                    .values(**row)
                )
                if res.rowcount != 1:
                    now = f"version {before.version} ({before.stage})" if before else "no rollout"
                    raise TransitionConflict(
                        f"the rollout of {state.agent} changed since it was read "
                        f"(expected version {expected_version}, found {now}): read it again"
                    )
            conn.execute(
                sa.insert(t.rollout_transitions).values(
                    **transition.model_dump(mode="json") | {"at": transition.at}
                )
            )
            audit.append(
                AuditDraft(
                    at=transition.at,
                    actor=transition.actor,
                    action=f"rollout.{transition.action.value}",
                    agent=state.agent,
                    subject=state.spec_version or state.spec_hash[:12],
                    reason=transition.reason,
                    before=_audit_view(before),
                    after=_audit_view(state),
                )
            )
        return state

    def enroll_version(
        self, version: SpecVersion, *, has_plan: bool, at: datetime
    ) -> RolloutState | None:
        """Enroll ``version`` in its agent's rollout (``core.rollout.enrollment``): start in
        shadow, or restart the current stage's gate; compare-and-set, retried when another
        process enrolls at the same time. Returns the state (None: no plan, no rollout)."""
        for _ in range(5):
            current = self.get_rollout(version.agent)
            change = enrollment(
                current,
                agent=version.agent,
                spec_hash=version.content_hash,
                spec_version=version.version,
                has_plan=has_plan,
                now=at,
            )
            if change is None:
                return current
            state, transition = change
            try:
                return self.save_rollout(
                    state,
                    expected_version=current.version if current else None,
                    transition=transition,
                )
            except TransitionConflict:
                continue
        return self.get_rollout(version.agent)

    def list_rollouts(self) -> list[RolloutState]:
        """Every agent's rollout, by agent name."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(t.rollout_states).order_by(t.rollout_states.c.agent)
            ).mappings()
            return [RolloutState.model_validate(dict(r)) for r in rows]

    def list_rollout_transitions(self, agent: str) -> list[RolloutTransition]:
        """Every change of ``agent``'s rollout, oldest first."""
        q = (
            sa.select(t.rollout_transitions)
            .where(t.rollout_transitions.c.agent == agent)
            .order_by(t.rollout_transitions.c.version)
        )
        with self._tx() as conn:
            rows = conn.execute(q).mappings().all()
        return [RolloutTransition.model_validate(dict(r)) for r in rows]


def _rollout_in(conn: Connection, agent: str) -> RolloutState | None:
    row = (
        conn.execute(sa.select(t.rollout_states).where(t.rollout_states.c.agent == agent))
        .mappings()
        .first()
    )
    return RolloutState.model_validate(dict(row)) if row else None


def _audit_view(state: RolloutState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return state.model_dump(
        mode="json", include={"stage", "spec_hash", "spec_version", "stage_since", "version"}
    )
