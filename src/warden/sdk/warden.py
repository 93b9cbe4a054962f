"""``Warden``: the SDK façade. A governor opened from a spec file and the settings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from warden.core.clock import Clock
from warden.core.spec import AgentSpec
from warden.core.spec_loader import load_spec
from warden.core.store import Store
from warden.errors import ConfigError
from warden.integrations.pagers import HttpPager
from warden.runtime.governor import Governor
from warden.runtime.hooks import RunHooks
from warden.runtime.interceptors import Interceptor
from warden.sdk.settings import Settings
from warden.store import open_store
from warden.store.remote import RemoteStore

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
        url: str | None = None,
        token: str | None = None,
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
            url: A Warden server (``warden serve``) to record to instead of a database
                (remote SDK mode): the same interceptors run here; run records are
                batched in the background and spooled to disk while the server is
                unreachable, then replayed. Kill criteria are then evaluated by the
                server's ``warden monitor``, not in this process.
            token: API token for ``url`` (default ``WARDEN_TOKEN``); bind it to the agent
                (``warden token create --role reviewer --agent NAME``).
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
        if store is not None:
            the_store = store
        elif url is not None:
            secret = token or os.environ.get("WARDEN_TOKEN")
            if not secret:
                raise ConfigError("remote mode needs a token: pass token= or set WARDEN_TOKEN")
            the_store = cast(Store, RemoteStore(url, secret))
            options.setdefault("kill_criteria_every_s", None)
        else:
            the_store = open_store(settings.database_url)
        extra_interceptors: list[Interceptor] = list(interceptors)
        extra_hooks: list[RunHooks] = list(hooks)
        if tracing:
            from warden.telemetry.tracing import Tracing

            tracer = Tracing()
            extra_interceptors.insert(0, tracer)
            extra_hooks.insert(0, tracer)
        options.setdefault("spool_dir", settings.spool_dir)
        options.setdefault("actor", settings.actor)
        options.setdefault("pager", None if url is not None and store is None else HttpPager())
        return cls(
            agent_spec,
            the_store,
            clock=clock,
            interceptors=extra_interceptors,
            hooks=extra_hooks,
            **options,
        )
