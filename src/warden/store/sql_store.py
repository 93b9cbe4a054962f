"""``SqlStore``: the ``Store`` port on SQLAlchemy 2, for SQLite (WAL) and PostgreSQL.

``SqlStore`` holds no SQL of its own. It composes one mixin per resource, each a
``SqlBase`` subclass in a module of its own (``runs``, ``handoffs``, ``approvals``, ``spec_versions``,
``scope``, ``rollout``, ``outcomes``, ``incidents``, ``paging``, ``drills``, ``metrics``,
``evals``, ``tokens``, ``audit``, ``killswitch.switch``). ``SqlBase`` (``base``) holds
the engine and the transactions they share.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from warden.store.approvals import ApprovalsSql
from warden.store.audit import AUDIT_KEY_OPTION, AuditSql
from warden.store.base import migrate
from warden.store.drills import DrillsSql
from warden.store.evals import EvalsSql
from warden.store.handoffs import HandoffsSql
from warden.store.incidents import IncidentsSql
from warden.store.killswitch.switch import KillSwitchSql
from warden.store.metrics import MetricsSql
from warden.store.outcomes import OutcomesSql
from warden.store.paging import PagingSql
from warden.store.retention import RetentionSql
from warden.store.rollout import RolloutSql
from warden.store.runs import RunsSql
from warden.store.scope import ScopeSql
from warden.store.spec_versions import SpecVersionsSql
from warden.store.tokens import TokensSql

if TYPE_CHECKING:
    from warden.core.audit import AuditKey

__all__ = ["SqlStore", "default_sqlite_url", "migrate"]


class SqlStore(
    RunsSql,
    HandoffsSql,
    ApprovalsSql,
    SpecVersionsSql,
    KillSwitchSql,
    RolloutSql,
    OutcomesSql,
    IncidentsSql,
    PagingSql,
    DrillsSql,
    MetricsSql,
    EvalsSql,
    ScopeSql,
    TokensSql,
    AuditSql,
    RetentionSql,
):
    """The store on a SQLAlchemy engine (see ``SqlBase`` for the arguments).

    Args:
        url: SQLAlchemy URL: ``sqlite:///path/warden.db`` or
            ``postgresql+psycopg://user@host/db``.
        auto_migrate: Run Alembic migrations to head when opening (default True).
        audit_key: The key that MACs every audit entry this store writes, and checks them
            in ``verify_audit`` (read at the edge: ``Settings.audit_key()``). Without it,
            entries are written without a MAC.

    Raises:
        StoreConfigError: The URL is not a supported database.
        StoreUnavailable: The database cannot be reached while migrating.
    """

    def __init__(
        self, url: str, *, auto_migrate: bool = True, audit_key: AuditKey | None = None
    ) -> None:
        super().__init__(url, auto_migrate=auto_migrate)
        if audit_key is not None:
            # Every connection of the store carries the key, so each ``AuditWriter``
            # (whichever resource module opens it) MACs with it.
            self.engine = self.engine.execution_options(**{AUDIT_KEY_OPTION: audit_key})


def default_sqlite_url(root: str | os.PathLike[str] = ".warden") -> str:
    """``sqlite:///<root>/warden.db``, the default store location."""
    return f"sqlite:///{Path(root) / 'warden.db'}"
