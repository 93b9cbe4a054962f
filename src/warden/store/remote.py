"""``RemoteStore``: the ``Store`` protocol over the control plane's HTTP API.

``Warden.open(spec, url=..., token=...)`` uses it instead of a database. Each method the
runtime needs is a ``POST /api/rpc/{method}`` whose arguments and result are the core
pydantic models (serialised with the ``Store`` method's own type hints). Run records go
through the governor's batched recorder as usual, so they leave the hot path and are
spooled to disk while the server is unreachable, then replayed: nothing is lost.

Errors: a connection failure, a timeout or a 5xx raises ``StoreUnavailable`` (write tools
then fail closed); 404 raises ``NotFoundError``; 409 ``RunStateError``; other 4xx
``ConfigError`` with the server's message.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import httpx
from pydantic import TypeAdapter

from warden.core.store import Store
from warden.errors import ConfigError, NotFoundError, RunStateError, StoreUnavailable

__all__ = ["RemoteStore"]


@cache
def _signature(method: str) -> tuple[list[str], dict[str, TypeAdapter[Any]], TypeAdapter[Any]]:
    fn = getattr(Store, method)
    hints = typing.get_type_hints(fn)
    names = [n for n in inspect.signature(fn).parameters if n != "self"]
    return names, {n: TypeAdapter(hints[n]) for n in names}, TypeAdapter(hints["return"])


class RemoteStore:
    """The store of a Warden server, for one agent's runtime.

    Args:
        url: Server base URL, e.g. ``http://127.0.0.1:8700``.
        token: An API token (role reviewer or above; normally bound to the agent).
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

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        names, params, returns = _signature(method)
        bound = dict(zip(names, args, strict=False)) | kwargs
        body = {"args": {k: params[k].dump_python(v, mode="json") for k, v in bound.items()}}
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

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_") or not callable(getattr(Store, method, None)):
            raise AttributeError(method)

        def remote(*args: Any, **kwargs: Any) -> Any:
            return self._call(method, *args, **kwargs)

        return remote

    # Methods the runtime calls that have a local answer in remote mode.

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
