"""``Warden``: the SDK façade. A governor opened from a spec file and the settings, with
the control-side duties an agent's own process takes on when it has the whole store:
evaluating kill criteria after runs end (and paging), and recording people's outcomes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warden.control.killcriteria import CriteriaWatch, check_kill_criteria
from warden.control.outcomes import record_outcome
from warden.core.agreement import Outcome
from warden.core.clock import Clock
from warden.core.incidents import Incident
from warden.core.paging import Pager
from warden.core.ports import RuntimeStore, Store
from warden.core.runs import ModelCallRecord
from warden.core.spec import AgentSpec
from warden.core.spec_loader import load_spec
from warden.errors import ConfigError, StoreUnavailable
from warden.runtime.chain.interceptor import Interceptor
from warden.runtime.governor import Governor
from warden.runtime.hooks import RunHooks
from warden.runtime.run import Run
from warden.sdk.settings import Settings

__all__ = ["Warden"]


class _PokeOnRunEnd:
    """Run hook: a run ended, so evaluate the kill criteria soon (when a watch runs)."""

    def __init__(self, warden: Warden) -> None:
        self.warden = warden

    def on_run_start(self, run: Run) -> None:
        """Nothing to do."""

    def on_run_end(self, run: Run) -> None:
        """Wake the kill-criteria thread."""
        if self.warden.criteria_watch is not None:
            self.warden.criteria_watch.poke()

    def on_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """Nothing to do."""


class Warden(Governor):
    """Govern an agent: ``Warden.open("agents/ticket-router.yaml")``.

    Takes ``Governor``'s arguments, and:

    Args:
        spec: The agent spec.
        store: The store. With the whole store (``SqlStore``) this process also evaluates
            kill criteria and records outcomes; with the runtime port only
            (``RemoteStore``) the server does both.
        actor: Who acts through this process, recorded with outcomes (``open`` passes
            ``WARDEN_ACTOR``; default ``warden``).
        pager: Sends pages when a kill criterion trips (``open`` passes ``HttpPager``).
        kill_criteria_every_s: Evaluate the spec's kill criteria in a background thread
            after runs end, at most once per this many seconds (default 1; None: only when
            ``check_kill_criteria`` is called, or by ``warden monitor``).
        **options: ``Governor``'s keyword arguments.
    """

    def __init__(
        self,
        spec: AgentSpec,
        store: RuntimeStore,
        *,
        actor: str = "warden",
        pager: Pager | None = None,
        kill_criteria_every_s: float | None = 1.0,
        hooks: Sequence[RunHooks] = (),
        **options: Any,
    ) -> None:
        self.actor = actor
        self.pager = pager
        self.control_store: Store | None = store if isinstance(store, Store) else None
        self.criteria_watch: CriteriaWatch | None = None
        if (
            spec.spec.kill_criteria
            and kill_criteria_every_s is not None
            and self.control_store is not None
        ):
            self.criteria_watch = CriteriaWatch(
                self.check_kill_criteria, min_interval_s=kill_criteria_every_s
            )
        super().__init__(spec, store, hooks=[*hooks, _PokeOnRunEnd(self)], **options)

    def _control(self, what: str) -> Store:
        if self.control_store is None:
            raise ConfigError(
                f"{what} needs the whole store; in remote mode the Warden server does it "
                "(its API and `warden monitor`)"
            )
        return self.control_store

    def record_outcome(self, key: str, action: Any, *, actor: str | None = None) -> Outcome:
        """Record what a person actually did for a run (``key``: run id or routing key)
        and compare it with the agent's proposal; see ``control.outcomes``.

        Raises:
            NotFoundError: No run of this agent has that id or routing key.
            StoreUnavailable: The store cannot be reached.
            ConfigError: Remote mode (record outcomes through the server's API).
        """
        store = self._control("recording an outcome")
        with contextlib.suppress(StoreUnavailable):
            self.recorder.flush()  # the run may still be queued
        return record_outcome(
            store,
            self.spec.name,
            key,
            action,
            actor=actor or self.actor,
            clock=self.clock,
            spec=self.spec,
        )

    def check_kill_criteria(self) -> list[Incident]:
        """Flush records, evaluate the kill criteria now and act on new trips.

        Returns:
            Incidents opened by this check (none for a version not in force).

        Raises:
            StoreUnavailable: The store cannot be reached.
            ConfigError: Remote mode (the server's ``warden monitor`` evaluates them).
        """
        store = self._control("evaluating kill criteria")
        with contextlib.suppress(StoreUnavailable):
            self.recorder.flush()
        if self.router.why_not() is not None:
            return []
        return check_kill_criteria(store, self.spec, self.spec_hash, self.clock, self.pager)

    def close(self) -> None:
        """Stop the kill-criteria thread, flush records and stop background threads."""
        if self.criteria_watch is not None:
            self.criteria_watch.stop()
        super().close()

    @classmethod
    def open(
        cls,
        spec: str | Path | AgentSpec,
        *,
        database_url: str | None = None,
        url: str | None = None,
        token: str | None = None,
        store: RuntimeStore | None = None,
        clock: Clock | None = None,
        tracing: bool = True,
        interceptors: Sequence[Interceptor] = (),
        hooks: Sequence[RunHooks] = (),
        **options: Any,
    ) -> Warden:
        """Load the spec, open the store, and return a ready governor.

        Args:
            spec: Path of the agent spec YAML, or an ``AgentSpec``.
            database_url: Store URL; default ``WARDEN_DATABASE_URL``, else
                ``sqlite:///.warden/warden.db``.
            url: A Warden server (``warden serve``) to record to instead of a database
                (remote SDK mode): the same interceptors run here; run records are
                batched in the background and spooled to disk while the server is
                unreachable, then replayed. Kill criteria are then evaluated by the
                server's ``warden monitor``, not in this process.
            token: API token for ``url`` (default ``WARDEN_TOKEN``); bind it to the agent
                (``warden token create --role agent --agent NAME``: an agent token reaches only the runtime port and its own runs).
            store: An already open store (wins over ``database_url`` and ``url``).
            clock: Injected time (tests, replays).
            tracing: Emit OpenTelemetry spans (GenAI conventions) through the global
                tracer provider; a no-op unless an OpenTelemetry SDK is configured.
            interceptors: Extra interceptors, outermost.
            hooks: Extra run hooks.
            **options: Passed to ``Governor`` (e.g. ``kill_switch_ttl_s``).

        Raises:
            SpecError: The spec is invalid (every problem listed with its line).
            StoreConfigError: Unsupported database URL.
            StoreUnavailable: The database cannot be reached to migrate it.
            ConfigError: ``url`` without a token.
        """
        agent_spec = spec if isinstance(spec, AgentSpec) else load_spec(spec)
        settings = Settings.from_env(database_url)
        the_store: RuntimeStore
        if store is not None:
            the_store = store
        elif url is not None:
            secret = token or os.environ.get("WARDEN_TOKEN")
            if not secret:
                raise ConfigError("remote mode needs a token: pass token= or set WARDEN_TOKEN")
            from warden.store.remote import RemoteStore

            the_store = RemoteStore(url, secret)
        else:
            from warden.store import open_store

            the_store = open_store(
                settings.database_url, audit_key=settings.audit_key(create=False)
            )
        extra_interceptors: list[Interceptor] = list(interceptors)
        extra_hooks: list[RunHooks] = list(hooks)
        if tracing:
            from warden.telemetry.tracing import Tracing

            tracer = Tracing()
            extra_interceptors.insert(0, tracer)
            extra_hooks.insert(0, tracer)
        options.setdefault("spool_dir", settings.spool_dir)
        options.setdefault("actor", settings.actor)
        if "pager" not in options and (url is None or store is not None):
            from warden.integrations.pagers import HttpPager

            options["pager"] = HttpPager()
        return cls(
            agent_spec,
            the_store,
            clock=clock,
            interceptors=extra_interceptors,
            hooks=extra_hooks,
            **options,
        )
