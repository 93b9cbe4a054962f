"""Rollout state, its transitions and shadow outcomes in SQL.

A transition is a compare-and-set on ``rollout_states.version`` inside a locked
transaction that also inserts the transition (primary key ``agent, version``: a second
writer of the same version cannot slip in) and its audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warden.core.agreement import AgentAction, AgreementRate, Outcome
from warden.core.audit import AuditDraft
from warden.core.rollout import RolloutState, RolloutTransition, enrollment
from warden.core.runs import RunMode, RunRecord, SpecVersion
from warden.errors import TransitionConflict
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["RolloutSql"]


class RolloutSql(SqlBase):
    """Rollout and outcome methods of ``SqlStore``."""

    # -- rollout state --------------------------------------------------------------------

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

    # -- outcomes -------------------------------------------------------------------------

    def latest_run_for_key(
        self, agent: str, routing_key: str, mode: RunMode | None = None
    ) -> RunRecord | None:
        """The newest run of ``agent`` with ``routing_key`` (and ``mode``), or None."""
        q = (
            sa.select(t.runs)
            .where(t.runs.c.agent == agent, t.runs.c.routing_key == routing_key)
            .order_by(t.runs.c.started_at.desc(), t.runs.c.id.desc())
            .limit(1)
        )
        if mode is not None:
            q = q.where(t.runs.c.mode == mode.value)
        with self._tx() as conn:
            row = conn.execute(q).mappings().first()
        return RunRecord.model_validate(dict(row)) if row else None

    def save_outcome(self, outcome: Outcome) -> Outcome:
        """Store a person's action for a run (a later one for the same run replaces it)."""
        row = outcome.model_dump(mode="json") | {
            "run_started_at": outcome.run_started_at,
            "recorded_at": outcome.recorded_at,
        }
        with self._tx() as conn:
            self._upsert(conn, t.outcomes, [row], ["run_id"])
        return outcome

    def get_outcome(self, run_id: str) -> Outcome | None:
        """The recorded outcome of a run, or None."""
        with self._tx() as conn:
            row = (
                conn.execute(sa.select(t.outcomes).where(t.outcomes.c.run_id == run_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        data = dict(row)
        for key in ("human", "proposed"):
            data[key] = [AgentAction.model_validate(a) for a in data[key]]
        return Outcome.model_validate(data)

    def agreement(
        self,
        agent: str,
        *,
        mode: RunMode | None = RunMode.SHADOW,
        spec_hash: str | None = None,
        since: datetime | None = None,
    ) -> list[AgreementRate]:
        """Agreement per spec version of ``agent``'s runs (of ``mode``, started since ``since``)."""
        o = t.outcomes
        q = (
            sa.select(
                o.c.spec_hash,
                sa.func.max(o.c.spec_version),
                sa.func.count(),
                sa.func.sum(sa.case((o.c.agreed, 1), else_=0)),
            )
            .where(o.c.agent == agent)
            .group_by(o.c.spec_hash)
            .order_by(sa.func.min(o.c.run_started_at))
        )
        if mode is not None:
            q = q.where(o.c.mode == mode.value)
        if spec_hash is not None:
            q = q.where(o.c.spec_hash == spec_hash)
        if since is not None:
            q = q.where(o.c.run_started_at >= since)
        with self._tx() as conn:
            rows = conn.execute(q).all()
        return [
            AgreementRate.of(str(h), str(v or ""), int(agreed or 0), int(n))
            for h, v, n, agreed in rows
        ]


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
