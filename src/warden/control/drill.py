"""The kill-switch drill: flip the switch for real, check that runs reroute, restore.

The drill routes a set of test routing keys through the same path every governed run
takes (a ``Router`` over a cached ``KillSwitch`` with the governor's TTL, listening for
pushes on PostgreSQL), warmed up before the flip like a live worker. It engages the
agent's kill switch, which is real: live traffic falls back during the drill too, for
about the propagation time. It measures the seconds from the flip's commit to the moment
every test key is rerouted, releases the switch, checks that the keys route normally
again, and records the drill (audited). The test keys are routed, not run, so the drill
leaves no runs and no handoffs behind.

A drill refuses to start while the switch is already on: it could not restore the state.
"""

from __future__ import annotations

import uuid

from warden.core.clock import Clock
from warden.core.incidents import Drill
from warden.core.ports import Store
from warden.core.rollout import Route
from warden.core.runs import RunMode
from warden.core.spec import AgentSpec
from warden.errors import ControlError
from warden.runtime.killswitch import KillSwitch
from warden.runtime.routing import Router

__all__ = ["kill_switch_drill"]


def _all(router: Router, keys: list[str], killed: bool) -> tuple[bool, int]:
    routes: list[Route] = [router.route(k, f"drill-{k}") for k in keys]
    hit = sum(r.mode is RunMode.FALLBACK and r.killed for r in routes)
    return (hit == len(keys)) if killed else (hit == 0), hit


def kill_switch_drill(
    store: Store,
    spec: AgentSpec,
    *,
    actor: str,
    clock: Clock,
    keys: int = 5,
    ttl_s: float = 0.25,
    timeout_s: float = 5.0,
    poll_s: float = 0.005,
) -> Drill:
    """Run a drill on ``spec``'s agent and record it.

    Args:
        store: The store live workers use.
        spec: The agent spec in force.
        actor: Who runs the drill (recorded on the flips and the drill).
        clock: A real clock (propagation is measured in real seconds).
        keys: Test routing keys (``warden-drill-0`` ...).
        ttl_s: Kill-switch cache TTL of the simulated worker (the governor default).
        timeout_s: Seconds to wait for the reroute, and for the restore.
        poll_s: Seconds between route checks.

    Raises:
        ControlError: The kill switch is already on.
    """
    agent = spec.name
    if store.get_kill_switch(agent).engaged:
        raise ControlError(f"the kill switch of {agent} is already on: release it before a drill")
    test_keys = [f"warden-drill-{i}" for i in range(keys)]
    switch = KillSwitch(store, agent, clock, ttl_s=ttl_s)
    switch.listen()
    router = Router(store, spec, switch, clock, ttl_s=ttl_s)
    checks = rerouted = 0
    propagation: float | None = None
    restored = False
    started_at = clock.now()
    try:
        _all(router, test_keys, killed=False)  # warm the caches, like a running worker
        t0 = clock.monotonic()
        store.set_kill_switch(
            agent, engaged=True, reason=f"kill-switch drill by {actor}", actor=actor, at=clock.now()
        )
        while clock.monotonic() - t0 < timeout_s:
            done, hit = _all(router, test_keys, killed=True)
            checks += len(test_keys)
            rerouted = max(rerouted, hit)
            if done:
                propagation = clock.monotonic() - t0
                break
            clock.sleep(poll_s)
    finally:
        store.set_kill_switch(
            agent,
            engaged=False,
            reason=f"kill-switch drill by {actor}: restore",
            actor=actor,
            at=clock.now(),
        )
        t1 = clock.monotonic()
        while clock.monotonic() - t1 < timeout_s:
            restored, _ = _all(router, test_keys, killed=False)
            if restored:
                break
            clock.sleep(poll_s)
        switch.close()
    passed = propagation is not None and restored
    detail = (
        f"{len(test_keys)} test keys rerouted {propagation:.3f} s after the flip; restored"
        if passed and propagation is not None
        else f"{rerouted} of {len(test_keys)} keys rerouted within {timeout_s:g} s; "
        + ("restored" if restored else "NOT restored")
    )
    drill = Drill(
        id=f"drl_{uuid.uuid4().hex[:16]}",
        agent=agent,
        actor=actor,
        started_at=started_at,
        ended_at=clock.now(),
        passed=passed,
        propagation_s=propagation,
        runs=checks,
        rerouted=rerouted,
        detail=detail,
        routing_keys=test_keys,
    )
    return store.record_drill(drill)
