"""Settings, read only at the edges (SDK façade, CLI, server): environment variables.

- ``WARDEN_DATABASE_URL``: SQLAlchemy URL of the store (default ``sqlite:///.warden/warden.db``).
- ``WARDEN_HOME``: directory for the default SQLite file, the spool and the default audit
  key file (default ``.warden``).
- ``WARDEN_ACTOR``: how an act is labelled in records (default: the OS user name). It is
  only a label: two-person rules compare principals (the CLI's OS user, a token's name).
- ``WARDEN_AUDIT_KEY``: the audit key itself (at least 32 characters), which MACs every
  audit entry (``warden.core.audit.AuditKey``). It wins over any key file.
- ``WARDEN_AUDIT_KEY_FILE``: a file holding the audit key; it must exist.
- ``WARDEN_RETENTION_DAYS``: days raw runs are kept after they end, for agents whose spec
  sets no ``retention`` (``warden db prune``, ``warden monitor``); unset: forever.

With neither, the key is ``<WARDEN_HOME>/audit.key``: a process that writes to the store
creates it on first use (64 random hex characters, mode 0600), and ``warden audit verify``
only reads it. Every process writing to one database must use the same key: on more than
one host, set ``WARDEN_AUDIT_KEY`` or ``WARDEN_AUDIT_KEY_FILE`` on each; entries sealed with
another key fail verification.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from warden.errors import ConfigError

if TYPE_CHECKING:
    from warden.core.audit import AuditKey

__all__ = ["Settings"]


def _days(text: str | None) -> float | None:
    """``WARDEN_RETENTION_DAYS`` as a number of days (None when unset or empty).

    Raises:
        ConfigError: Not a positive number.
    """
    if text is None or not text.strip():
        return None
    try:
        days = float(text)
    except ValueError:
        raise ConfigError(f"WARDEN_RETENTION_DAYS must be a number of days, not {text!r}") from None
    if not days > 0 or days == float("inf"):
        raise ConfigError(f"WARDEN_RETENTION_DAYS must be a positive number of days, not {text!r}")
    return days


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings.

    Attributes:
        database_url: Store URL.
        home: Directory for local state (SQLite file, spool, default audit key).
        actor: Name recorded as the actor of operator actions.
        audit_key_text: ``WARDEN_AUDIT_KEY`` (kept out of ``repr``).
        audit_key_file: ``WARDEN_AUDIT_KEY_FILE``.
        retention_days: ``WARDEN_RETENTION_DAYS`` (None: keep raw runs forever).
    """

    database_url: str
    home: Path
    actor: str
    audit_key_text: str | None = field(default=None, repr=False)
    audit_key_file: Path | None = None
    retention_days: float | None = None

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
        key_file = os.environ.get("WARDEN_AUDIT_KEY_FILE")
        return cls(
            retention_days=_days(os.environ.get("WARDEN_RETENTION_DAYS")),
            database_url=url,
            home=home,
            actor=os.environ.get("WARDEN_ACTOR", default_actor),
            audit_key_text=os.environ.get("WARDEN_AUDIT_KEY") or None,
            audit_key_file=Path(key_file) if key_file else None,
        )

    @property
    def spool_dir(self) -> Path:
        """``<home>/spool``."""
        return self.home / "spool"

    @property
    def default_audit_key_file(self) -> Path:
        """``<home>/audit.key``, used when no key is configured."""
        return self.home / "audit.key"

    def audit_key(self, *, create: bool = True) -> AuditKey | None:
        """The audit key: ``WARDEN_AUDIT_KEY``, else ``WARDEN_AUDIT_KEY_FILE``, else
        ``<home>/audit.key``.

        Args:
            create: Create the default key file (mode 0600) when it does not exist, as a
                writer does; verification passes False and gets None instead.

        Raises:
            ConfigError: The key is shorter than 32 characters, or ``WARDEN_AUDIT_KEY_FILE``
                does not exist or cannot be read.
        """
        from warden.core.audit import AuditKey

        if self.audit_key_text is not None:
            try:
                return AuditKey.from_text(self.audit_key_text)
            except ConfigError as exc:
                raise ConfigError(f"WARDEN_AUDIT_KEY: {exc.message}") from None
        path = self.audit_key_file or self.default_audit_key_file
        if self.audit_key_file is None and not path.exists():
            if not create:
                return None
            _create_key_file(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the audit key file {path}: {exc.strerror}") from None
        try:
            return AuditKey.from_text(text)
        except ConfigError as exc:
            raise ConfigError(f"audit key file {path}: {exc.message}") from None


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path``, readable by its owner only. The key is written
    to a temporary file first and linked into place, so no process reads a half-written
    key; if another process created one first, theirs is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process's key stays
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
