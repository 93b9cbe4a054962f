"""What a benchmark's numbers were measured on (shared by the scripts in bench/)."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from warden.store import SqlStore


def _proc_field(path: str, prefix: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line
    return None


def machine(store: SqlStore, packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """The machine, the database and the versions: nproc, CPU model, RAM (GiB), Python,
    SQLite library, SQLAlchemy, the store's database and version, ``packages``' versions,
    the date (UTC) and the load average (the caller fills ``loadavg_before``)."""
    cpu_line = _proc_field("/proc/cpuinfo", "model name")
    mem_line = _proc_field("/proc/meminfo", "MemTotal:")
    db_version = ""
    with contextlib.suppress(Exception), store.engine.connect() as conn:
        query = (
            "SHOW server_version" if store.dialect == "postgresql" else "SELECT sqlite_version()"
        )
        db_version = str(conn.execute(sa.text(query)).scalar())
    versions: dict[str, str] = {}
    for dist in packages:
        with contextlib.suppress(Exception):
            versions[dist] = version(dist)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu_line.split(":", 1)[1].strip() if cpu_line else "unknown",
        "ram_gib": round(int(mem_line.split()[1]) / 1024**2, 1) if mem_line else float("nan"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite_library": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "versions": versions,
        "database": store.dialect,
        "database_version": db_version,
        "platform": platform.platform(),
        "loadavg_before": None,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
