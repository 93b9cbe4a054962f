"""Apply and approve spec versions (scope changes) against the version in force.

``apply_spec`` stores the version and classifies it against the version in force
(``core.scope``). A contraction or a neutral change is in force at once; an expansion is
``pending`` until an owner other than the person who applied it approves it
(``approve_spec``). While the agent is within ``rollout.stability_window_days`` of going
live, an expansion is refused unless applied with ``override_stability`` and a reason.
When a version comes into force, the gate of the current rollout stage starts again.

Once an agent has a version in force, only that version runs: a governor opened with a
pending version, a version never applied, or an older one routes every run to the
fallback (``runtime.routing.version_standing``), so a contraction takes effect at once
everywhere.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from warden.control.gates import spec_of
from warden.core.clock import Clock
from warden.core.ports import Store
from warden.core.rollout import RolloutAction, Stage
from warden.core.runs import SpecVersion
from warden.core.scope import ChangeKind, ChangeStatus, SpecChange, classify, overall
from warden.core.spec import AgentSpec
from warden.errors import ConfigError, ControlError, NotFoundError

__all__ = ["apply_spec", "approve_spec"]


def _enroll(store: Store, spec: AgentSpec, spec_hash: str, clock: Clock) -> None:
    """Put the version in force into the rollout (restarts the current stage's gate)."""
    store.enroll_version(
        SpecVersion.of(spec, clock.now(), spec_hash),
        has_plan=spec.spec.rollout is not None,
        at=clock.now(),
    )


def _stability_ends(store: Store, spec: AgentSpec, clock: Clock) -> str | None:
    """When the stability window of a live agent ends (ISO date), or None if not in one."""
    state = store.get_rollout(spec.name)
    plan = spec.spec.rollout
    if state is None or plan is None or state.stage is not Stage.LIVE:
        return None
    live = [
        t.at
        for t in store.list_rollout_transitions(spec.name)
        if t.action is RolloutAction.ADVANCE and t.to_stage is Stage.LIVE
    ]
    if not live:
        return None
    ends = max(live) + timedelta(days=plan.stability_window_days)
    return f"{ends:%Y-%m-%d %H:%M} UTC" if clock.now() < ends else None


def apply_spec(
    store: Store,
    spec: AgentSpec,
    *,
    actor: str,
    clock: Clock,
    override_stability: bool = False,
    reason: str = "",
    principal: str | None = None,
) -> SpecChange:
    """Store ``spec`` as a new version of its agent and classify the change.

    ``actor`` labels the change; ``principal`` (``Principal.key``, default ``actor``) is
    who applied it, which the approver of an expansion must not be.

    Returns:
        The change: ``applied`` (contraction, neutral, or the first version) or
        ``pending`` (an expansion). Applying the version in force returns its change.

    Raises:
        ControlError: An expansion inside the stability window without
            ``override_stability``.
        ConfigError: ``override_stability`` without a reason.
    """
    if override_stability and not reason.strip():
        raise ConfigError("--override-stability needs --reason: say why it cannot wait")
    spec_hash = spec.content_hash()
    current = store.current_spec_change(spec.name)
    if current is not None and current.to_hash == spec_hash:
        return current
    store.save_spec_version(SpecVersion.of(spec, clock.now(), spec_hash))
    if current is None:
        kind, items = ChangeKind.INITIAL, []
    else:
        old = spec_of(store, spec.name, current.to_hash)
        items = classify(old, spec)
        kind = overall(items)
        if kind is ChangeKind.EXPANSION:
            ends = _stability_ends(store, old, clock)
            if ends is not None and not override_stability:
                raise ControlError(
                    f"{spec.name} went live recently: until {ends} (stability window) an "
                    "expansion also needs --override-stability --reason"
                )
    change = SpecChange(
        id=f"chg_{uuid.uuid4().hex[:16]}",
        agent=spec.name,
        from_hash=current.to_hash if current else None,
        to_hash=spec_hash,
        version=spec.metadata.version,
        kind=kind,
        items=items,
        status=ChangeStatus.PENDING if kind is ChangeKind.EXPANSION else ChangeStatus.APPLIED,
        applied_by=actor,
        applied_principal=principal or actor,
        created_at=clock.now(),
        reason=reason,
        override_stability=override_stability,
    )
    store.record_spec_change(change)
    if change.status is ChangeStatus.APPLIED:
        _enroll(store, spec, spec_hash, clock)
    return change


def approve_spec(
    store: Store,
    ref: str,
    *,
    actor: str,
    clock: Clock,
    reason: str = "",
    principal: str | None = None,
) -> SpecChange:
    """Approve the pending change ``ref`` (change id, or a prefix of the new content hash).

    The approver's label (``actor``) must be the owner or the backup owner of the version
    in force (of the new version, for an agent's first), and the approving principal
    (``principal``, default ``actor``) must not be the one who applied it: two-person rules
    compare principals, so one OS user or one person's token relabelled is refused.

    Raises:
        NotFoundError: No pending change matches ``ref``.
        ConfigError: ``ref`` matches more than one pending change.
        ControlError: The approver may not approve it.
    """
    pending = [c for c in store.find_spec_changes(ref) if c.status is ChangeStatus.PENDING]
    if not pending:
        raise NotFoundError(f"no pending spec change matches {ref!r}")
    if len(pending) > 1:
        raise ConfigError(f"{ref!r} matches {len(pending)} pending changes: give more of the hash")
    change = pending[0]
    owners_of = spec_of(store, change.agent, change.from_hash or change.to_hash).metadata
    owners = {owners_of.owner.strip().lower(), owners_of.backup_owner.strip().lower()}
    who = actor.strip().lower()
    approver = (principal or actor).strip().lower()
    if approver == change.applier.strip().lower() or who == change.applied_by.strip().lower():
        raise ControlError(
            f"{principal or actor} applied this expansion (as {change.applied_by}); an owner "
            f"other than the person who applied it must approve it "
            f"({' or '.join(sorted(owners - {who}))})"
        )
    if who not in owners:
        raise ControlError(
            f"{actor} is not an owner of {change.agent}: {' or '.join(sorted(owners))} "
            "must approve an expansion"
        )
    approved = store.approve_spec_change(
        change.id, actor=actor, at=clock.now(), reason=reason, principal=principal or actor
    )
    _enroll(store, spec_of(store, change.agent, change.to_hash), change.to_hash, clock)
    return approved
