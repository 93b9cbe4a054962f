"""The API's HTTP error responses: the JSON error body, its OpenAPI documentation
(``ERROR_RESPONSES``), the status of each Warden error and the handlers that answer with it.

Every failure is a 4xx/5xx with ``{"error": {"code", "message"}}``: ``ConfigError`` → 400,
request validation → 422, ``NotFoundError`` → 404, ``RunStateError`` and ``ControlError``
→ 409, ``PolicyDenied`` → 403, ``StoreUnavailable`` → 503. Anything else is logged and
answered 500 with no internals. (The exception tree itself is ``warden.errors``.)
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from warden.errors import (
    ControlError,
    NotFoundError,
    PolicyDenied,
    RunStateError,
    StoreUnavailable,
    WardenError,
)

__all__ = ["ERROR_RESPONSES", "ErrorBody", "error_body", "install_error_handlers", "status_of"]

log = logging.getLogger("warden.server")

_HTTP_CODES = {
    401: "auth.required",
    403: "auth.forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    """Stable machine-readable code, e.g. ``auth.forbidden``, ``not_found``, ``config.invalid``."""
    message: str
    """Plain-language explanation."""


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "Invalid input (a value the store cannot hold, a bad cursor)",
    },
    401: {"model": ErrorBody, "description": "No valid API token"},
    403: {
        "model": ErrorBody,
        "description": "The token's role is too low, or it is bound to another agent",
    },
    404: {"model": ErrorBody, "description": "No such agent, run, approval or incident"},
    409: {
        "model": ErrorBody,
        "description": "Conflicts with the current state (already decided, gate not passed)",
    },
    422: {"model": ErrorBody, "description": "The request does not match the schema"},
    503: {"model": ErrorBody, "description": "The store is unreachable"},
}
"""Documented on every API route, so clients (and the OpenAPI schema) know the error shape."""


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    """The JSON error body every failure uses."""
    return {"error": {"code": code, "message": message, **extra}}


def status_of(exc: WardenError) -> int:
    """The HTTP status for a Warden error."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, RunStateError | ControlError):
        return 409
    if isinstance(exc, PolicyDenied):
        return 403
    if isinstance(exc, StoreUnavailable):
        return 503
    return 400


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""

    async def warden_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WardenError)
        return JSONResponse(error_body(exc.code, exc.message), status_code=status_of(exc))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        body = error_body("request.invalid", "the request is not valid", problems=problems)
        return JSONResponse(body, status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)

    app.add_exception_handler(WardenError, warden_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
