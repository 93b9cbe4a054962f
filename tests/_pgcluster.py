"""A throwaway PostgreSQL cluster for the test suite, and per-worker databases.

``PgCluster.start()`` runs the server binaries (``initdb``, ``pg_ctl``; see ``find_bindir``)
on a new data directory in a temporary directory: trust auth, superuser ``postgres``,
listening on 127.0.0.1 and a free port (its unix socket in the same temporary directory),
with ``fsync``, ``synchronous_commit`` and ``full_page_writes`` off (nothing in it has to
survive a crash). ``PgCluster.stop()`` stops it with ``pg_ctl stop -m immediate`` and
removes the directory. A directory left behind by a process that was killed outright
(``kill -9``: nothing of it runs any more) is stopped and removed by the next ``start()``.

``create_database`` / ``drop_database`` make and remove one database beside the one a URL
names (``tests/conftest.py`` gives each pytest-xdist worker its own).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

PREFIX = "warden-pg-"
"""Name prefix of the clusters' temporary directories."""
OS_USER = "postgres"
"""The OS user the server runs as when the tests run as root."""
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # two xdist workers' stores, LISTEN threads and subprocesses share one server
    "max_connections": "200",
    "log_min_messages": "warning",
}


class PgClusterError(RuntimeError):
    """The throwaway cluster could not be found, started or used."""


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: from ``PATH``, else ``pg_config
    --bindir``, else the newest ``/usr/lib/postgresql/<version>/bin`` (where Debian's
    ``postgresql`` package puts them, off ``PATH``).

    Raises:
        PgClusterError: None of them has both programs.
    """
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates += [Path(initdb).parent, Path(initdb).resolve().parent]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PgClusterError(
        "initdb and pg_ctl not found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin): "
        "install the PostgreSQL server (`make install` does: apt-get install postgresql), "
        "or give an external server with WARDEN_TEST_DATABASE_URL=postgresql+psycopg://..."
    )


def _as_server_user() -> list[str]:
    """The command prefix that runs a server program as the right OS user.

    ``initdb`` and ``pg_ctl`` refuse to run as root (CI runs as root). Then they run as
    the ``postgres`` OS user, through ``runuser`` (util-linux; ``setpriv`` when it is
    missing), and the cluster's temporary directory is chowned to that user. Otherwise
    they run as the current user: nothing to prefix.
    """
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise PgClusterError(
            f"running as root, and initdb refuses root: the {OS_USER!r} OS user is needed "
            "to run the throwaway cluster (Debian's postgresql package creates it)"
        ) from None
    if shutil.which("runuser"):
        return ["runuser", "-u", OS_USER, "--"]
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", "--"]
    raise PgClusterError("running as root: neither runuser nor setpriv found to drop to postgres")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_dir() -> Path:
    """Where the cluster's directory goes: the temporary directory, unless the server's OS
    user (root case) could not reach it, then ``/tmp``."""
    base = Path(tempfile.gettempdir())
    if os.geteuid() == 0:
        for part in (base, *base.parents):
            if not part.stat().st_mode & stat.S_IXOTH:
                return Path("/tmp")
    return base


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PgCluster:
    """One running throwaway cluster (see the module docstring)."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.version = ""

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def start(cls, attempts: int = 3) -> PgCluster:
        """Sweep clusters whose owner died, then init and start a new one.

        Raises:
            PgClusterError: ``initdb`` failed, or the server did not start (``attempts``
                times on a new port: another process can take the free port first).
        """
        bindir = find_bindir()
        prefix = _as_server_user()
        sweep_orphans(bindir)
        root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=_base_dir()))
        (root / "owner").write_text(str(os.getpid()))
        cluster = cls(bindir, root, 0)
        try:
            if prefix:
                shutil.chown(root, OS_USER, OS_USER)
            cluster._run(
                [
                    *prefix,
                    str(bindir / "initdb"),
                    "-D",
                    str(cluster.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                "initdb",
            )
            with (cluster.data / "postgresql.conf").open("a") as conf:
                conf.write("\n# warden test suite: a throwaway cluster\n")
                for key, value in SETTINGS.items():
                    conf.write(f"{key} = {value}\n")
                conf.write(f"unix_socket_directories = '{root}'\n")
            for attempt in range(1, attempts + 1):
                cluster.port = _free_port()
                try:
                    cluster._pg_ctl("start", "-w", "-t", "60", "-o", f"-p {cluster.port}")
                    break
                except PgClusterError:
                    if attempt == attempts:
                        raise
            with sa.create_engine(cluster.url("postgres")).connect() as conn:
                cluster.version = str(conn.execute(sa.text("SHOW server_version")).scalar())
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and remove the directory; never raises."""
        _stop_data_dir(self.bindir, self.data)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- use ---------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this cluster (TCP, superuser ``postgres``)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    # -- internals ---------------------------------------------------------------------

    def _pg_ctl(self, *args: str) -> None:
        self._run(
            [
                *_as_server_user(),
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                *args,
            ],
            f"pg_ctl {args[0]}",
        )

    def _run(self, cmd: list[str], what: str) -> None:
        # cwd: the server's OS user may not be able to enter ours (root's home, say).
        # A new session: Ctrl-C in the terminal reaches pytest, which stops the server in
        # order, and not the server first.
        done = subprocess.run(
            cmd,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,
            check=False,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgClusterError(
                f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}".strip()
            )


def _stop_data_dir(bindir: Path, data: Path) -> None:
    """``pg_ctl stop -m immediate`` on ``data``; when that fails, SIGQUIT (PostgreSQL's
    immediate shutdown) to the postmaster named in ``postmaster.pid``."""
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    with contextlib.suppress(Exception):
        subprocess.run(
            [
                *_as_server_user(),
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "stop",
                "-m",
                "immediate",
                "-w",
            ],
            cwd=data.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            start_new_session=True,
            check=False,
        )
    if not pidfile.exists():
        return
    with contextlib.suppress(Exception):
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def sweep_orphans(bindir: Path | None = None) -> None:
    """Stop and remove the clusters whose owning process is gone (it was killed outright)."""
    for root in _base_dir().glob(f"{PREFIX}*"):
        with contextlib.suppress(Exception):
            owner = int((root / "owner").read_text())
            if _alive(owner):
                continue
            _stop_data_dir(bindir or find_bindir(), root / "data")
            shutil.rmtree(root, ignore_errors=True)


# -- databases -------------------------------------------------------------------------


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` instead."""
    return sa.make_url(url).set(database=database).render_as_string(hide_password=False)


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def _drop(conn: sa.Connection, database: str) -> None:
    name = conn.dialect.identifier_preparer.quote(database)
    if conn.dialect.server_version_info and conn.dialect.server_version_info >= (13,):
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        return
    conn.execute(
        sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()"
        ),
        {"db": database},
    )
    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))


def create_database(url: str, database: str) -> str:
    """Create ``database`` (dropping a leftover of that name first) on the server ``url``
    points at, connecting to the database ``url`` names; returns its URL."""
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            _drop(conn, database)
            name = conn.dialect.identifier_preparer.quote(database)
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    return with_database(url, database)


def drop_database(url: str, database: str) -> None:
    """Drop ``database`` (closing its sessions) on the server ``url`` points at."""
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            _drop(conn, database)
    finally:
        engine.dispose()
