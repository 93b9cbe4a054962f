"""A bound on every request body: read as a stream, refused with 413 past the limit.

Without it a client could post 100 MB to ``/api/agents/A/events`` and the server would
read it all (RSS +200 MB) before answering 422. The bound is checked twice: a declared
``Content-Length`` over the limit is refused before anything is read, and a body sent
without one (chunked) is counted as it streams and cut off at the limit. The answer is the
API's JSON error body (``error_responses``). Default: 16 MiB, the largest OTLP export a
collector sends by default is 4 MiB (OpenTelemetry Collector ``otlphttp`` exporter) and an
events batch is at most 5,000 records.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
"""16 MiB."""


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    Args:
        app: The application.
        max_bytes: Largest body accepted, in bytes (default 16 MiB).
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting ``receive``; answer 413 past the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counting_receive() -> Message:
            # The app's handlers turn this into the API's JSON 413 (error_responses).
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"the request body is over {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": "request.too_large",
                    "message": f"the request body is over {self.max_bytes} bytes",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
