"""The runtime port, over HTTP, for the remote SDK (``Warden.open(spec, url=..., token=...)``).

``POST /api/rpc/{method}`` with ``{"args": {...}}`` calls one method of the runtime port
(``core.ports.RuntimeStore``) and answers ``{"result": ...}``. The methods are derived
from that protocol (``store.remote.remote_methods``), so this surface is exactly what an
agent's process needs and grows only when the port does; each has a check that a token
bound to an agent touches that agent only (``CHECKS``: a port method without one makes
the server refuse to start). Everything server-side (stage changes, kill criteria,
incidents, audit, tokens) stays off this path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from warden.core.events import Event
from warden.core.runs import ApprovalRequest, ApprovalStatus, SpecVersion
from warden.core.tokens import Principal, Role
from warden.errors import ConfigError, NotFoundError
from warden.server.deps import ServerContext, audit_denial, context, deny_other_agent, require
from warden.server.routers.events import check_events_belong
from warden.store.remote import remote_methods, rpc_signature

router = APIRouter(tags=["remote sdk"])

Check = Callable[[ServerContext, Principal, dict[str, Any]], str | None]
"""Returns the agent the call touches (checked against the token), or None if none."""


def _arg(name: str) -> Check:
    return lambda ctx, who, args: str(args[name])


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


def _none(ctx: ServerContext, who: Principal, args: dict[str, Any]) -> str | None:
    return None


CHECKS: dict[str, Check] = {
    "apply": _events,
    "save_spec_version": _spec_version,
    "enroll_version": _spec_version,
    "get_kill_switch": _arg("agent"),
    "get_rollout": _arg("agent"),
    "current_spec_change": _arg("agent"),
    "find_spec_changes": _none,
    "daily_usage": _arg("agent"),
    "untrusted_reads": _arg("agent"),
    "create_approval": _approval_request,
    "get_approval": _owner_of_approval,
    "decide_approval": _close_only,
    "get_idempotency": _none,
}
"""The agent each runtime-port method touches, checked against an agent-bound token."""

EXPOSED = remote_methods()
"""The methods served: the runtime port minus what ``RemoteStore`` answers locally."""

if frozenset(CHECKS) != EXPOSED:  # a new port method needs its ownership check here
    raise RuntimeError(
        f"/api/rpc: runtime-port methods without a check {sorted(EXPOSED - set(CHECKS))}, "
        f"checks for methods not in the port {sorted(set(CHECKS) - EXPOSED)}"
    )


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
    who: Principal = Depends(require(Role.REVIEWER, agents=True)),
) -> RpcResult:
    """Call one runtime-port method (reviewer role; an agent token acts on its agent)."""
    params, returns = rpc_signature(method)
    unknown = set(body.args) - set(params)
    if unknown:
        raise ConfigError(f"{method}: unknown argument(s) {sorted(unknown)}")
    try:
        args = {k: params[k].validate_python(v) for k, v in body.args.items()}
    except ValidationError as exc:
        raise ConfigError(
            f"{method}: invalid arguments: {exc.errors(include_url=False)[0]['msg']}"
        ) from None
    try:
        agent = CHECKS[method](ctx, who, args)
    except HTTPException as exc:
        if exc.status_code == 403:
            audit_denial(ctx, request, who.name, str(exc.detail), who.agent)
        raise
    if agent is not None:
        deny_other_agent(ctx, request, who, agent)
    try:
        result = getattr(ctx.store, method)(**args)
    except TypeError as exc:  # missing required argument
        raise ConfigError(f"{method}: {exc}") from None
    return RpcResult(result=returns.dump_python(result, mode="json"))
