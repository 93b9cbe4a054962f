"""API tokens (admin only). The secret is returned once, at creation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, model_validator

from warden.core.tokens import ApiToken, Principal, Role, expiry, hash_token, new_token
from warden.server.deps import ServerContext, context, require

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class TokenView(BaseModel):
    """A token without its hash."""

    id: str
    name: str
    role: Role
    agent: str | None = None
    created_by: str
    revoked: bool
    expires_at: datetime | None = None
    """After this the token is refused (401); None: never."""
    last_used_at: datetime | None = None
    """When a request last used it (to the minute)."""


class NewToken(BaseModel):
    """What to create."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    role: Role
    agent: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    expires_in_days: Annotated[float, Field(ge=0, lt=36_500)] | None = None
    """Lifetime in days; 0 never expires; default 90 for agent tokens, never for people's."""

    @model_validator(mode="after")
    def _agent_tokens_name_their_agent(self) -> NewToken:
        if self.role is Role.AGENT and self.agent is None:
            raise ValueError("an agent token must be bound to its agent (agent)")
        return self


class CreatedToken(TokenView):
    """A new token, with its secret (shown once)."""

    token: str


def _view(t: ApiToken) -> TokenView:
    return TokenView(
        id=t.id,
        name=t.name,
        role=t.role,
        agent=t.agent,
        created_by=t.created_by,
        revoked=t.revoked_at is not None,
        expires_at=t.expires_at,
        last_used_at=t.last_used_at,
    )


@router.get("", response_model=list[TokenView])
def list_tokens(
    ctx: ServerContext = Depends(context), _: Principal = Depends(require(Role.ADMIN))
) -> list[TokenView]:
    """Every token, newest first."""
    return [_view(t) for t in ctx.store.list_tokens()]


@router.post("", response_model=CreatedToken, status_code=201)
def create_token(
    body: NewToken,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.ADMIN)),
) -> CreatedToken:
    """Create a token (admin); its secret is in the response and never again."""
    now = ctx.clock.now()
    try:
        expires_at = expiry(body.role, now, body.expires_in_days)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    token_id, secret = new_token()
    stored = ctx.store.create_token(
        ApiToken(
            id=token_id,
            name=body.name,
            role=body.role,
            agent=body.agent,
            token_hash=hash_token(secret),
            created_at=now,
            created_by=who.name,
            expires_at=expires_at,
        )
    )
    return CreatedToken(**_view(stored).model_dump(), token=secret)


@router.delete("/{token_id}", response_model=TokenView)
def revoke_token(
    token_id: str,
    ctx: ServerContext = Depends(context),
    who: Principal = Depends(require(Role.ADMIN)),
) -> TokenView:
    """Revoke a token (admin). Idempotent."""
    return _view(ctx.store.revoke_token(token_id, ctx.clock.now(), actor=who.name))
