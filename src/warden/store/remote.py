"""``RemoteStore``: the runtime port (``core.ports.RuntimeStore``) over the control plane's API.

``Warden.open(spec, url=..., token=...)`` uses it instead of a database. Each method of the
runtime port is a ``POST /api/rpc/{method}`` whose arguments and result are the core
pydantic models, (de)serialised with the port method's own type hints; the server derives
its RPC surface from the same protocol, so an agent's process can call exactly the runtime
port remotely and nothing else. Run records go through the governor's batched recorder as
usual, so they leave the hot path and are spooled to disk while the server is
unreachable, then replayed: nothing is lost.

Errors: a connection failure, a timeout or a 5xx raises ``StoreUnavailable`` (write tools
then fail closed); 404 raises ``NotFoundError``; 409 ``RunStateError``; other 4xx
``ConfigError`` with the server's message.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import httpx
from pydantic import TypeAdapter

from warden.core.events import Event
from warden.core.killswitch import KillSwitchState
from warden.core.ports import RuntimeStore
from warden.core.rollout import RolloutState
from warden.core.runs import (
    ApprovalRequest,
    ApprovalStatus,
    IdempotencyRecord,
    SpecVersion,
)
from warden.core.scope import SpecChange
from warden.errors import ConfigError, NotFoundError, RunStateError, StoreUnavailable

__all__ = ["LOCAL_METHODS", "RemoteStore", "remote_methods", "rpc_signature"]

LOCAL_METHODS = frozenset({"watch_kill_switches", "mark_interrupted", "ping", "close"})
"""Runtime-port methods ``RemoteStore`` answers locally (no RPC)."""


def remote_methods() -> frozenset[str]:
    """The runtime-port methods called over ``/api/rpc``: the port minus the local ones."""
    return frozenset(
        name
        for name, member in vars(RuntimeStore).items()
        if callable(member) and not name.startswith("_") and name not in LOCAL_METHODS
    )


@cache
def rpc_signature(method: str) -> tuple[dict[str, TypeAdapter[Any]], TypeAdapter[Any]]:
    """Type adapters of a runtime-port method's parameters (by name) and return value.

    Raises:
        NotFoundError: Not a method of the runtime port that is called remotely.
    """
    if method not in remote_methods():
        raise NotFoundError(f"store method {method!r} is not available over the API")
    fn = getattr(RuntimeStore, method)
    hints = typing.get_type_hints(fn)
    params = {
        name: TypeAdapter(hints[name])
        for name in inspect.signature(fn).parameters
        if name != "self"
    }
    return params, TypeAdapter(hints["return"])


class RemoteStore:
    """The runtime port of a Warden server, for one agent's process.

    Args:
        url: Server base URL, e.g. ``http://127.0.0.1:8700``.
        token: An agent token (``warden token create --role agent --agent NAME``).
        timeout_s: Seconds per request (default 5).
        transport: An httpx transport (tests).
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            transport=transport,
        )

    def _call(self, method: str, **kwargs: Any) -> Any:
        params, returns = rpc_signature(method)
        body = {"args": {k: params[k].dump_python(v, mode="json") for k, v in kwargs.items()}}
        try:
            response = self._client.post(f"/api/rpc/{method}", json=body)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"Warden server {self.url} unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise StoreUnavailable(f"Warden server {self.url} answered {response.status_code}")
        if response.status_code >= 400:
            try:
                message = str(response.json()["error"]["message"])
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            if response.status_code == 404:
                raise NotFoundError(message)
            if response.status_code == 409:
                raise RunStateError(message)
            raise ConfigError(f"Warden server refused {method}: {message}")
        return returns.validate_python(response.json()["result"])

    # -- the runtime port, over HTTP ------------------------------------------------------

    def apply(self, events: Sequence[Event]) -> None:
        """Apply a batch of events (the recorder's batches)."""
        self._call("apply", events=events)

    def save_spec_version(self, version: SpecVersion) -> SpecVersion:
        """Store a spec version; return the stored one."""
        result: SpecVersion = self._call("save_spec_version", version=version)
        return result

    def get_kill_switch(self, agent: str) -> KillSwitchState:
        """The kill switch of ``agent``."""
        result: KillSwitchState = self._call("get_kill_switch", agent=agent)
        return result

    def get_rollout(self, agent: str) -> RolloutState | None:
        """The rollout of ``agent``, or None."""
        result: RolloutState | None = self._call("get_rollout", agent=agent)
        return result

    def enroll_version(
        self, version: SpecVersion, *, has_plan: bool, at: datetime
    ) -> RolloutState | None:
        """Enroll ``version`` in its agent's rollout (never changes the stage)."""
        result: RolloutState | None = self._call(
            "enroll_version", version=version, has_plan=has_plan, at=at
        )
        return result

    def current_spec_change(self, agent: str) -> SpecChange | None:
        """The applied change in force for ``agent``, or None."""
        result: SpecChange | None = self._call("current_spec_change", agent=agent)
        return result

    def find_spec_changes(self, ref: str) -> list[SpecChange]:
        """Changes whose id is ``ref`` or whose new content hash starts with ``ref``."""
        result: list[SpecChange] = self._call("find_spec_changes", ref=ref)
        return result

    def daily_usage(self, agent: str, since: datetime) -> tuple[int, float]:
        """``(runs started, model cost USD)`` of ``agent`` since ``since``."""
        result: tuple[int, float] = self._call("daily_usage", agent=agent, since=since)
        return result

    def untrusted_reads(
        self, agent: str, routing_key: str, tools: Sequence[str], since: datetime
    ) -> list[tuple[str, str]]:
        """``(run id, tool)`` of recent untrusted reads by runs of ``routing_key``."""
        result: list[tuple[str, str]] = self._call(
            "untrusted_reads", agent=agent, routing_key=routing_key, tools=list(tools), since=since
        )
        return result

    def create_approval(self, request: ApprovalRequest) -> ApprovalRequest:
        """Store a new pending approval request."""
        result: ApprovalRequest = self._call("create_approval", request=request)
        return result

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        """One approval request, or None."""
        result: ApprovalRequest | None = self._call("get_approval", approval_id=approval_id)
        return result

    def decide_approval(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        actor: str,
        reason: str,
        at: datetime,
    ) -> ApprovalRequest:
        """Close this process's own request (``expired`` / ``cancelled``; the server refuses
        any other decision from an agent)."""
        result: ApprovalRequest = self._call(
            "decide_approval",
            approval_id=approval_id,
            status=status,
            actor=actor,
            reason=reason,
            at=at,
        )
        return result

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The recorded result of a write applied under ``key``, or None."""
        result: IdempotencyRecord | None = self._call("get_idempotency", key=key)
        return result

    # -- answered here --------------------------------------------------------------------

    def watch_kill_switches(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """No push channel over HTTP: the kill switch is polled (its short TTL)."""
        return None

    def mark_interrupted(self, stale_before: datetime, at: datetime) -> list[str]:
        """Reaping stale runs is the server's job (``warden runs reap`` / ``warden monitor``)."""
        return []

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the server cannot be reached."""
        try:
            self._client.get("/healthz").raise_for_status()
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"Warden server {self.url} unreachable: {exc}") from exc

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
