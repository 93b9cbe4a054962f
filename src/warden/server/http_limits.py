"""Connection limits for ``warden serve``, so that no client can hold the server.

- **Header time**: a request's headers must arrive within ``HEADER_TIMEOUT_S`` of its first
  byte (or of the connection opening); a client that trickles them (Slowloris, CWE-400) is
  disconnected. uvicorn bounds only the time between requests (``timeout_keep_alive``).
- **Concurrency**: at most ``MAX_CONCURRENCY`` connections or in-flight requests; beyond
  that uvicorn answers 503 at once (its ``limit_concurrency``).
- **Header size**: h11 refuses a request head over 16 KiB (``h11_max_incomplete_event_size``)
  and bodies are bounded by ``server.body_limit`` (16 MiB, 413).
"""

from __future__ import annotations

import asyncio
from typing import cast

from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

__all__ = ["HEADER_TIMEOUT_S", "MAX_CONCURRENCY", "HeaderTimeoutProtocol", "with_header_timeout"]

HEADER_TIMEOUT_S = 10.0
"""Seconds a client has to send a whole request head."""
MAX_CONCURRENCY = 256
"""Connections or in-flight requests served at once; more get 503."""


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is not complete
    within ``header_timeout_s`` seconds."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():
            self._disarm()
        elif self._header_timer is None:  # (part of) the next request's head
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        # uvicorn types ``cycle`` as always set, but it is None until the first request.
        cycle = cast("RequestResponseCycle | None", self.cycle)
        return cycle is not None and not cycle.response_complete

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self._in_request() and not self.transport.is_closing():
            self.logger.warning(
                "Closed a connection whose request head took over %ss.", self.header_timeout_s
            )
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """``HeaderTimeoutProtocol`` with its limit set to ``seconds`` (uvicorn's ``http=``)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": seconds})
