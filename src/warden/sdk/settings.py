"""Settings, read only at the edges (SDK façade, CLI, server): environment variables.

- ``WARDEN_DATABASE_URL``: SQLAlchemy URL of the store (default ``sqlite:///.warden/warden.db``).
- ``WARDEN_HOME``: directory for the default SQLite file and the spool (default ``.warden``).
- ``WARDEN_ACTOR``: who is acting, for records of kill switch and approval decisions
  (default: the OS user name).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings.

    Attributes:
        database_url: Store URL.
        home: Directory for local state (SQLite file, spool).
        actor: Name recorded as the actor of operator actions.
    """

    database_url: str
    home: Path
    actor: str

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        """Read the environment; an explicit ``database_url`` wins over ``WARDEN_DATABASE_URL``."""
        home = Path(os.environ.get("WARDEN_HOME", ".warden"))
        url = (
            database_url
            or os.environ.get("WARDEN_DATABASE_URL")
            or f"sqlite:///{home / 'warden.db'}"
        )
        try:
            default_actor = getpass.getuser()
        except Exception:  # no user name in some containers
            default_actor = "unknown"
        return cls(database_url=url, home=home, actor=os.environ.get("WARDEN_ACTOR", default_actor))

    @property
    def spool_dir(self) -> Path:
        """``<home>/spool``."""
        return self.home / "spool"
