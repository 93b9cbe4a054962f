"""``Warden``: the SDK façade. A governor opened from a spec file and the settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warden.core.clock import Clock
from warden.core.spec import AgentSpec
from warden.core.spec_loader import load_spec
from warden.core.store import Store
from warden.integrations.pagers import HttpPager
from warden.runtime.governor import Governor
from warden.runtime.hooks import RunHooks
from warden.runtime.interceptors import Interceptor
from warden.sdk.settings import Settings
from warden.store import open_store

__all__ = ["Warden"]


class Warden(Governor):
    """Govern an agent: ``Warden.open("agents/ticket-router.yaml")``.

    See ``Governor`` for the constructor; most users call ``open``.
    """

    @classmethod
    def open(
        cls,
        spec: str | Path | AgentSpec,
        *,
        database_url: str | None = None,
        store: Store | None = None,
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
            store: An already open store (wins over ``database_url``).
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
        """
        agent_spec = spec if isinstance(spec, AgentSpec) else load_spec(spec)
        settings = Settings.from_env(database_url)
        the_store = store if store is not None else open_store(settings.database_url)
        extra_interceptors: list[Interceptor] = list(interceptors)
        extra_hooks: list[RunHooks] = list(hooks)
        if tracing:
            from warden.telemetry.tracing import Tracing

            tracer = Tracing()
            extra_interceptors.insert(0, tracer)
            extra_hooks.insert(0, tracer)
        options.setdefault("spool_dir", settings.spool_dir)
        options.setdefault("actor", settings.actor)
        options.setdefault("pager", HttpPager())
        return cls(
            agent_spec,
            the_store,
            clock=clock,
            interceptors=extra_interceptors,
            hooks=extra_hooks,
            **options,
        )
