"""The governor: one agent spec, enforced on every call of every run, against one store.

It owns what runs share: the tool registry, the interceptor chain (built once, each link
given its collaborators), the batched recorder and its spool, the kill-switch cache, the
router, the per-minute rate window and the heartbeat. It needs only the runtime port of
the store (``core.ports.RuntimeStore``) and nothing of ``warden.control``: kill criteria,
outcomes and paging are added by ``warden.Warden`` (the SDK façade), a governor opened
from settings.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any, TypeVar, overload

from warden.core.clock import Clock, SystemClock
from warden.core.ports import RuntimeStore
from warden.core.runs import ModelCallRecord, RunMode, SpecVersion
from warden.core.spec import AgentSpec
from warden.errors import ConfigError, StoreUnavailable
from warden.runtime.chain import (
    ApprovalWait,
    BudgetGate,
    Idempotency,
    InputValidation,
    Interceptor,
    KillSwitchGate,
    PolicyGate,
    Proceed,
    Retry,
    WriteAhead,
    build_chain,
    execute_tool,
)
from warden.runtime.heartbeat import Heartbeat, reap_interrupted
from warden.runtime.hooks import RunHooks
from warden.runtime.killswitch import KillSwitch
from warden.runtime.notify import HandoffNotifier
from warden.runtime.ratelimit import RateWindow
from warden.runtime.recorder import Recorder
from warden.runtime.routing import Router, version_standing
from warden.runtime.run import Run
from warden.runtime.taint import CarriedTaint
from warden.runtime.tools import ToolRegistry

__all__ = ["Governor"]

log = logging.getLogger("warden.governor")

F = TypeVar("F", bound=Callable[..., Any])


class Governor:
    """Enforce ``spec`` on every run, recording to ``store``.

    Args:
        spec: The agent spec.
        store: Where runs are recorded and shared state lives (the runtime port).
        clock: Injected time (default: the system clock).
        spool_dir: Directory for the local spool (default ``.warden/spool``).
        kill_switch_ttl_s: Seconds a kill-switch read is cached (default 0.25).
        approval_poll_s: Seconds between polls while waiting for an approval (default 0.2).
        heartbeat_s: Seconds between heartbeats of active runs (default 5).
        stale_after_s: A running run with no heartbeat for this long is ``interrupted``
            (default 30); checked when the governor opens.
        flush_interval_s: Seconds between batched writes (default 0.05).
        interceptors: Extra interceptors placed outermost (e.g. tracing).
        hooks: Run observers (e.g. tracing, metrics).
        raise_run_errors: Re-raise Warden run errors at the end of a ``with`` block
            (default False: the run records them; check ``run.status``).
    """

    def __init__(
        self,
        spec: AgentSpec,
        store: RuntimeStore,
        *,
        clock: Clock | None = None,
        spool_dir: str | Path = ".warden/spool",
        kill_switch_ttl_s: float = 0.25,
        approval_poll_s: float = 0.2,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 30.0,
        flush_interval_s: float = 0.05,
        interceptors: Sequence[Interceptor] = (),
        hooks: Sequence[RunHooks] = (),
        raise_run_errors: bool = False,
    ) -> None:
        self.spec = spec
        self.spec_hash = spec.content_hash()
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.approval_poll_s = approval_poll_s
        self.raise_run_errors = raise_run_errors
        self.tools = ToolRegistry()
        self.recorder = Recorder(store, Path(spool_dir), flush_interval_s=flush_interval_s)
        self.kill_switch = KillSwitch(store, spec.name, self.clock, ttl_s=kill_switch_ttl_s)
        self.kill_switch.listen()
        self.taint = CarriedTaint(spec, store, self.clock)
        self.router = Router(
            store,
            spec,
            self.kill_switch,
            self.clock,
            ttl_s=kill_switch_ttl_s,
            standing=lambda: version_standing(store, spec.name, self.spec_hash),
        )
        limited = {
            n for n, t in spec.spec.tools.items() if t.rate_limit and t.rate_limit.per_minute
        }
        self.rate_window = RateWindow(self.clock, limited)
        self.hooks = list(hooks)
        esc = spec.spec.escalation
        if esc is not None and esc.notify:
            self.hooks.append(HandoffNotifier(esc.notify))
        self.chain: Proceed = build_chain(
            [
                *interceptors,
                KillSwitchGate(self.kill_switch),
                BudgetGate(),
                InputValidation(),
                PolicyGate(
                    self.rate_window,
                    ApprovalWait(
                        store, self.recorder, self.kill_switch, self.clock, poll_s=approval_poll_s
                    ),
                ),
                WriteAhead(self.recorder),
                Idempotency(store, self.recorder, self.clock),
                Retry(self.kill_switch, self.clock),
            ],
            execute_tool,
        )
        self._active: dict[str, Run] = {}
        self._active_lock = threading.Lock()
        self.heartbeat = Heartbeat(
            self.recorder, self.clock, self.active_run_ids, interval_s=heartbeat_s
        )
        self.stale_after_s = stale_after_s
        self._closed = False
        try:
            version = store.save_spec_version(
                SpecVersion.of(spec, self.clock.now(), self.spec_hash)
            )
            reap_interrupted(store, self.clock, stale_after_s)
            why_not = self.router.why_not()
            if why_not is None:
                store.enroll_version(
                    version, has_plan=spec.spec.rollout is not None, at=self.clock.now()
                )
            else:
                log.warning("%s: every run falls back: %s", spec.name, why_not)
        except StoreUnavailable as exc:
            log.warning("store unreachable at open (%s): write tools will fail closed", exc)
        atexit.register(self.close)

    # -- tools ----------------------------------------------------------------------------

    @overload
    def tool(self, fn: F, /) -> F: ...
    @overload
    def tool(self, fn: None = None, /, *, name: str | None = None) -> Callable[[F], F]: ...

    def tool(self, fn: F | None = None, /, *, name: str | None = None) -> F | Callable[[F], F]:
        """Register a tool function; use as ``@wd.tool`` or ``@wd.tool(name="...")``.

        The function stays callable as before (ungoverned); governed calls go through
        ``run.call(name, ...)``.

        Raises:
            ToolRegistrationError: The function cannot be governed or the name is taken.
        """

        def register(f: F) -> F:
            self.tools.register(f, name)
            return f

        return register(fn) if fn is not None else register

    # -- runs -----------------------------------------------------------------------------

    def run(
        self,
        input: Any = None,
        *,
        routing_key: str | None = None,
        mode: RunMode | str | None = None,
        run_id: str | None = None,
        dangerously_override_rollout: bool = False,
    ) -> Run:
        """A new run; use it as ``with wd.run(input=...) as run:``.

        ``run.mode`` says how it runs, decided now: from the rollout when the spec has a
        rollout plan (``shadow``; ``live``; ``fallback`` outside the canary slice, when
        rolled back, with the kill switch on, or when the rollout cannot be read), else
        ``live``; and ``fallback`` whenever this spec version is not the one in force
        (``warden spec apply``). Entering a ``fallback`` run records it, hands its work to the fallback
        and raises ``RunRerouted`` (``KillSwitchEngaged`` for the kill switch).

        Args:
            input: The task (any JSON-able value): trusted content for the provenance rule.
            routing_key: Stable key of the customer/ticket: the canary split is sticky by it.
            mode: Force ``live`` or ``shadow`` past the rollout (tests, tooling; never past
                the kill switch); needs ``dangerously_override_rollout``. Default: from the
                rollout.
            run_id: Explicit id (default: generated).
            dangerously_override_rollout: Must be True for ``mode``: a forced ``live`` run
                executes writes while the rollout is in shadow. Such a run is recorded
                (``RunRecord.mode_override``), audited when it ends (``run.mode_override``)
                and fails the readiness review of its version while recent.

        Raises:
            ConfigError: ``mode`` without ``dangerously_override_rollout=True``, or an
                unknown mode.
        """
        rid = run_id or f"run_{uuid.uuid4().hex[:24]}"
        route = None
        if mode is not None:
            if not dangerously_override_rollout:
                raise ConfigError(
                    f"run(mode={str(mode)!r}) bypasses the rollout; pass "
                    "dangerously_override_rollout=True if that is what you mean (the run is "
                    "audited and the readiness review fails while such runs are recent)"
                )
            try:
                chosen = RunMode(mode)
            except ValueError:
                raise ConfigError(f"unknown run mode {mode!r}: live or shadow") from None
        elif self.spec.spec.rollout is None and self.router.why_not() is None:
            chosen = RunMode.LIVE
        else:
            route = self.router.route(routing_key, rid)
            chosen = route.mode
        return Run(
            self,
            input=input,
            routing_key=routing_key,
            mode=chosen,
            run_id=rid,
            route=route,
            mode_override=mode is not None,
        )

    def register(self, run: Run) -> None:
        """Track ``run`` as active (heartbeats)."""
        with self._active_lock:
            self._active[run.id] = run
        self.heartbeat.ensure_started()

    def unregister(self, run: Run) -> None:
        """Stop tracking ``run``."""
        with self._active_lock:
            self._active.pop(run.id, None)

    def active_run_ids(self) -> list[str]:
        """Ids of runs in progress in this process."""
        with self._active_lock:
            return list(self._active)

    def usage_today(self) -> tuple[int, float]:
        """``(runs, cost USD)`` of this agent since 00:00 UTC today (flushes first)."""
        with contextlib.suppress(StoreUnavailable):
            self.recorder.flush()
        midnight = datetime.combine(
            self.clock.now().date(), time.min, tzinfo=self.clock.now().tzinfo
        )
        return self.store.daily_usage(self.spec.name, midnight)

    # -- hooks ----------------------------------------------------------------------------

    def notify_start(self, run: Run) -> None:
        """Tell hooks a run started."""
        for hook in self.hooks:
            _safely(hook.on_run_start, run)

    def notify_end(self, run: Run) -> None:
        """Tell hooks a run ended (and remember the untrusted content it read)."""
        read = [s for s in run.state.untrusted_sources if s not in run.carried_taint]
        self.taint.remember(run.routing_key, run.id, read)
        for hook in self.hooks:
            _safely(hook.on_run_end, run)

    def notify_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """Tell hooks about a model call."""
        for hook in self.hooks:
            _safely(hook.on_model_call, run, record)

    # -- shutdown -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every queued record now.

        Raises:
            StoreUnavailable: Records were spooled locally instead.
        """
        self.recorder.flush()

    def close(self) -> None:
        """Flush records and stop background threads. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.heartbeat.stop()
        self.kill_switch.close()
        self.recorder.close()
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)

    def __enter__(self) -> Governor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _safely(fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("a run hook failed")
