"""API tokens in SQL (hashed; creating and revoking one is audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from warden.core.audit import AuditDraft
from warden.core.tokens import ApiToken
from warden.errors import NotFoundError
from warden.store import tables as t
from warden.store.audit import AuditWriter
from warden.store.base import SqlBase

__all__ = ["TokensSql"]

_T = t.api_tokens


def _public(token: ApiToken) -> dict[str, Any]:
    return token.model_dump(mode="json", exclude={"token_hash"})


class TokensSql(SqlBase):
    """The ``TokenStore`` part of ``SqlStore``."""

    def create_token(self, token: ApiToken) -> ApiToken:
        """Store a new token and audit its creation (never its secret or hash)."""
        row = token.model_dump(mode="json") | {
            "created_at": token.created_at,
            "revoked_at": None,
            "expires_at": token.expires_at,
            "last_used_at": None,
        }
        with self._locked_tx() as conn:
            conn.execute(sa.insert(_T).values(**row))
            AuditWriter(conn, self.dialect).append(
                AuditDraft(
                    at=token.created_at,
                    actor=token.created_by,
                    action="token.created",
                    agent=token.agent,
                    subject=token.id,
                    reason=token.name,
                    after=_public(token),
                )
            )
        return token

    def touch_token(self, token_id: str, at: datetime) -> None:
        """Set the token's ``last_used_at`` (never moves it back; not audited)."""
        with self._tx() as conn:
            conn.execute(
                sa.update(_T)
                .where(
                    _T.c.id == token_id,
                    sa.or_(_T.c.last_used_at.is_(None), _T.c.last_used_at < at),
                )
                .values(last_used_at=at)
            )

    def find_token(self, token_hash: str) -> ApiToken | None:
        """The unrevoked token with ``token_hash`` (expired or not), or None."""
        with self._tx() as conn:
            row = (
                conn.execute(
                    sa.select(_T).where(_T.c.token_hash == token_hash, _T.c.revoked_at.is_(None))
                )
                .mappings()
                .first()
            )
        return ApiToken.model_validate(dict(row)) if row else None

    def list_tokens(self) -> list[ApiToken]:
        """Every token, newest first."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(_T).order_by(_T.c.created_at.desc())).mappings().all()
        return [ApiToken.model_validate(dict(r)) for r in rows]

    def revoke_token(self, token_id: str, at: datetime, actor: str = "warden") -> ApiToken:
        """Revoke a token (idempotent) and audit it.

        Raises:
            NotFoundError: No such token.
        """
        with self._locked_tx() as conn:
            row = conn.execute(sa.select(_T).where(_T.c.id == token_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no token {token_id!r}")
            before = ApiToken.model_validate(dict(row))
            if before.revoked_at is None:
                conn.execute(sa.update(_T).where(_T.c.id == token_id).values(revoked_at=at))
                AuditWriter(conn, self.dialect).append(
                    AuditDraft(
                        at=at,
                        actor=actor,
                        action="token.revoked",
                        agent=before.agent,
                        subject=token_id,
                        before=_public(before),
                    )
                )
        return next(t for t in self.list_tokens() if t.id == token_id)
