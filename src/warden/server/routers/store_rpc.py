"""The store, over HTTP, for the remote SDK (``Warden.open(spec, url=..., token=...)``).

``POST /api/rpc/{method}`` with ``{"args": {...}}`` calls one method of the ``Store``
protocol and answers ``{"result": ...}``. Arguments and results are (de)serialised with
the method's own type hints, so the wire format is the core pydantic models. Only the
methods an agent's runtime needs are exposed, each with a check that a token bound to an
agent touches that agent only; everything server-side (kill criteria, incidents, audit,
tokens) stays off this path.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from warden.core.events import Event
from warden.core.runs import ApprovalRequest, ApprovalStatus, SpecVersion
from warden.core.store import Store
from warden.core.tokens import Principal, Role
from warden.errors import ConfigError, NotFoundError
from warden.server.deps import ServerContext, context, deny_other_agent, require
from warden.server.routers.runs import check_events_belong

router = APIRouter(tags=["remote sdk"])

Check = Callable[[ServerContext, Principal, dict[str, Any]], str | None]
"""Returns the agent the call touches (checked against the token), or None if none."""


def _arg(name: str) -> Check:
    return lambda ctx, who, args: str(args[name])


def _owner_of_run(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    detail = ctx.store.get_run(str(args["run_id"]))
    return detail.run.agent if detail is not None else who.agent


def _owner_of_approval(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    found = ctx.store.get_approval(str(args["approval_id"]))
    if found is None:
        raise NotFoundError(f"no approval request {args['approval_id']!r}")
    return found.agent


def _close_only(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    # An agent's runtime only ever closes its own requests (expired / cancelled); people
    # decide approvals through /api/approvals.
    if args["status"] not in (ApprovalStatus.EXPIRED, ApprovalStatus.CANCELLED):
        raise HTTPException(403, "approvals are decided by people, through /api/approvals")
    return _owner_of_approval(ctx, who, args)


def _events(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    events: list[Event] = args["events"]
    if who.agent is not None:
        check_events_belong(ctx, who.agent, events)
    return who.agent


def _spec_version(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    version: SpecVersion = args["version"]
    return version.agent


def _approval_request(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    request: ApprovalRequest = args["request"]
    return request.agent


def _rollout(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    return str(args["state"].agent)


def _none(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    return None


EXPOSED: dict[str, Check] = {
    "apply": _events,
    "save_spec_version": _spec_version,
    "get_spec_version": _arg("agent"),
    "list_spec_versions": _arg("agent"),
    "get_kill_switch": _arg("agent"),
    "get_rollout": _arg("agent"),
    "save_rollout": _rollout,
    "list_rollout_transitions": _arg("agent"),
    "current_spec_change": _arg("agent"),
    "find_spec_changes": _none,
    "daily_usage": _arg("agent"),
    "get_run": _owner_of_run,
    "create_approval": _approval_request,
    "get_approval": _owner_of_approval,
    "decide_approval": _close_only,
    "get_idempotency": _none,
    "latest_run_for_key": _arg("agent"),
    "agreement": _arg("agent"),
}
"""Store methods the remote SDK may call, with the agent each call touches."""


@cache
def signature(method: str) -> tuple[dict[str, TypeAdapter[Any]], TypeAdapter[Any]]:
    """Type adapters of a ``Store`` method's parameters and return value.

    Raises:
        NotFoundError: Not a method this endpoint exposes.
    """
    if method not in EXPOSED:
        raise NotFoundError(f"store method {method!r} is not available over the API")
    fn = getattr(Store, method)
    hints = typing.get_type_hints(fn)
    params = {
        name: TypeAdapter(hints[name])
        for name in inspect.signature(fn).parameters
        if name != "self"
    }
    return params, TypeAdapter(hints["return"])


class RpcBody(BaseModel):
    """The method's keyword arguments, as JSON."""

    args: dict[str, Any] = Field(default_factory=dict[str, Any])


class RpcResult(BaseModel):
    """The method's return value, as JSON."""

    result: Any = None


@router.post("/api/rpc/{method}", response_model=RpcResult)
def call(
    method: str,
    request: Request,
    body: Annotated[RpcBody, Body()],
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.REVIEWER)),
) -> RpcResult:
    """Call one exposed ``Store`` method (reviewer role; an agent token acts on its agent)."""
    params, returns = signature(method)
    unknown = set(body.args) - set(params)
    if unknown:
        raise ConfigError(f"{method}: unknown argument(s) {sorted(unknown)}")
    try:
        args = {k: params[k].validate_python(v) for k, v in body.args.items()}
    except ValidationError as exc:
        raise ConfigError(
            f"{method}: invalid arguments: {exc.errors(include_url=False)[0]['msg']}"
        ) from None
    agent = EXPOSED[method](ctx, who, args)
    if agent is not None:
        deny_other_agent(ctx, request, who, agent)
    try:
        result = getattr(ctx.store, method)(**args)
    except TypeError as exc:  # missing required argument
        raise ConfigError(f"{method}: {exc}") from None
    return RpcResult(result=returns.dump_python(result, mode="json"))
