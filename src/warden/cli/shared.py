"""What every ``warden`` command module shares: consoles, common options, JSON output,
the store as a context manager, who is acting, run ids by prefix, tables that never cut an
id, and the spec in force.

Light on purpose: every command imports it, so the store (SQLAlchemy), pydantic and the
control functions are imported inside the functions that use them.

Operator commands (those that change what an agent does or what is recorded about it:
``kill``, ``unkill``, ``rollout advance|rollback``, ``approvals approve|deny``, ``spec
apply|approve``, ``outcomes record``, ``incidents ack|resolve``, ``runs reap``, ``drill
kill-switch``, ``page test``, ``monitor``) open the store with ``operator=True``: they never
create one (a missing SQLite file exits 2 naming it and how to point at the right store),
and they print the store they act on, password masked, as one line on stderr.

Exit codes: 0 success, 1 operation failed (e.g. not found), 2 invalid input.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Generator, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from warden.errors import ControlError, SpecError, WardenError

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Column, Table
    from sqlalchemy.engine import URL

    from warden.core.ports import ControlStore, Store
    from warden.core.spec import AgentSpec
    from warden.core.tokens import Principal
    from warden.store import SqlStore

__all__ = [
    "DbUrl",
    "JsonFlag",
    "actor",
    "describe_store",
    "err",
    "exit_on_spec_error",
    "id_column",
    "mark_standalone",
    "open_cli_store",
    "operator",
    "os_user",
    "out",
    "print_json",
    "print_table",
    "resolve_run_id",
    "spec_in_force",
]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="WARDEN_DATABASE_URL", help="Store URL."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (the pydantic model).")]


def print_json(value: Any) -> None:
    """Print ``value`` (a pydantic model or any JSON-able value) as indented JSON."""
    from pydantic import BaseModel, TypeAdapter

    if isinstance(value, BaseModel):
        sys.stdout.write(value.model_dump_json(indent=2, by_alias=True) + "\n")
    else:
        data = TypeAdapter(Any).dump_python(value, mode="json", by_alias=True)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")


_standalone = False


def mark_standalone() -> None:
    """This process is the ``warden`` command itself (``warden.cli.main.main``), not a
    caller's (tests run commands in-process): the objects of its start-up may be frozen."""
    global _standalone
    _standalone = True


@contextmanager
def _start_up() -> Generator[None, None, None]:
    """Pause the cyclic garbage collector while the store is imported and opened.

    That start-up allocates about 100 000 objects (SQLAlchemy, Alembic, the core's pydantic
    models) that live as long as the process, and no garbage: the full collections it would
    trigger only walk them. In the ``warden`` process they are then frozen (out of the
    collector's view, as ``warden serve`` does), together about 80 ms of ``warden kill``
    (bench/README.md, "Start-up"). Collection resumes afterwards, for long commands.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _standalone:
            gc.freeze()
        if enabled:
            gc.enable()


def describe_store(url: str) -> str:
    """``url`` as the store line shows it: the password masked, a SQLite path absolute."""
    parsed = _parse_url(url)
    if parsed is None:
        return url  # opening it says what is wrong
    path = _sqlite_file(parsed)
    if path is not None:
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=True)


def _parse_url(url: str) -> URL | None:
    """``url`` parsed by SQLAlchemy, or None when it is not a URL."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except ArgumentError:
        return None


def _sqlite_file(url: URL) -> Path | None:
    """The SQLite file ``url`` names, absolute (None: not SQLite, or in memory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def _missing_store(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist, else None."""
    parsed = _parse_url(url)
    path = None if parsed is None else _sqlite_file(parsed)
    return path if path is not None and not path.exists() else None


def _url_source(database_url: str | None) -> str:
    """Where the store URL came from, for the message that the store is missing."""
    if not database_url:
        where = " in WARDEN_HOME" if os.environ.get("WARDEN_HOME") else ""
        return f"the default{where}: neither --database-url nor WARDEN_DATABASE_URL is set"
    if os.environ.get("WARDEN_DATABASE_URL") == database_url:
        return "from WARDEN_DATABASE_URL"
    return "from --database-url"


@contextmanager
def open_cli_store(
    database_url: str | None, *, operator: bool = False
) -> Generator[SqlStore, None, None]:
    """Open the store; a Warden error inside prints ``error (code): message`` and exits 1.

    With ``operator`` (a command that changes state), a SQLite file that does not exist is
    not created: it exits 2 naming the file and how to point at the store. The store is
    then named on stderr (``store: URL``, password masked), so ``--json`` stays clean.
    """
    try:
        with _start_up():
            from warden.sdk.settings import Settings
            from warden.store import open_store

            settings = Settings.from_env(database_url)
            url = settings.database_url
            if operator:
                missing = _missing_store(url)
                if missing is not None:
                    from rich.markup import escape

                    err.print(
                        f"[red]error[/]: no Warden store at {escape(str(missing))} "
                        f"({_url_source(database_url)}). This command acts on an existing "
                        "store and never creates one: point it at yours with --database-url "
                        "URL or WARDEN_DATABASE_URL=URL (`warden db upgrade` creates a new "
                        "store).",
                        highlight=False,
                    )
                    raise typer.Exit(2)
                err.print(f"store: {describe_store(url)}", markup=False, highlight=False)
            store = open_store(url, audit_key=settings.audit_key(create=False))
    except WardenError as exc:
        err.print(f"[red]error[/]: {exc.message}")
        raise typer.Exit(1) from None
    try:
        yield store
    except WardenError as exc:
        err.print(f"[red]error[/] ({exc.code}): {exc.message}")
        raise typer.Exit(1) from None
    finally:
        store.close()


_CANDIDATES = 10
"""Run ids an ambiguous prefix lists."""


def resolve_run_id(store: ControlStore, ref: str) -> str:
    """The run id ``ref`` names: itself, else the one run id that starts with it.

    Exits 1 when no run id starts with it, 2 listing the candidates when several do.
    """
    from rich.markup import escape

    ids = store.find_run_ids(ref, _CANDIDATES + 1)
    if ref in ids:
        return ref
    if len(ids) == 1:
        return ids[0]
    if not ids:
        err.print(f"[red]error[/]: no run {escape(repr(ref))}", highlight=False)
        raise typer.Exit(1)
    listed = "\n  ".join(ids[:_CANDIDATES]) + ("\n  ..." if len(ids) > _CANDIDATES else "")
    err.print(
        f"[red]error[/]: {escape(repr(ref))} starts several run ids; give more of it:\n  "
        + escape(listed),
        highlight=False,
    )
    raise typer.Exit(2)


def id_column(header: str) -> Column:
    """A table column of identifiers: never wrapped, never cut short (``print_table``)."""
    from rich.table import Column

    return Column(header, no_wrap=True)


_NARROWEST = 4
"""Characters a column other than an ``id_column`` may be squeezed to in a table."""


def print_table(table: Table) -> None:
    """Print ``table``; on a terminal too narrow to hold its ``id_column`` whole (and the
    other columns at a few characters), print the header and each row as one line of its
    cells instead, so an id is never cut short."""
    from rich.measure import Measurement
    from rich.text import Text

    need = 1
    for column in table.columns:
        widest = max(
            Measurement.get(out, out.options, c).maximum for c in [column.header, *column.cells]
        )
        need += 3 + (widest if column.no_wrap else min(widest, _NARROWEST))
    if out.width >= need:
        out.print(table)
        return

    def line(cells: Iterable[RenderableType]) -> Text:
        return Text("  ").join(
            c if isinstance(c, Text) else Text.from_markup(str(c)) for c in cells
        )

    out.print(line(c.header for c in table.columns), style="bold", highlight=False)
    for row in zip(*(list(c.cells) for c in table.columns), strict=True):
        out.print(line(row), highlight=False)


def actor() -> str:
    """How the act is labelled: ``WARDEN_ACTOR``, else the OS user."""
    from warden.sdk.settings import Settings

    return Settings.from_env().actor


def os_user() -> str:
    """The operating-system user running this process (its effective uid), never an
    environment variable (``getpass.getuser`` reads ``USER`` and ``LOGNAME`` first)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # no passwd entry, or not POSIX
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else os.getlogin()


def operator() -> Principal:
    """Who acts on the local CLI: the OS user (the principal two-person rules compare),
    labelled with ``WARDEN_ACTOR`` when it is set."""
    from warden.core.tokens import Principal, Role

    return Principal(name=os_user(), role=Role.ADMIN, os_user=True, label=actor())


def exit_on_spec_error(exc: SpecError) -> NoReturn:
    """Print every problem of an invalid spec as ``FILE:LINE: path: message`` and exit 2."""
    for p in exc.problems:
        err.print(str(p), markup=False)
    raise typer.Exit(2) from None


def spec_in_force(store: Store, agent: str, spec_file: Path | None) -> AgentSpec:
    """The spec from ``spec_file``, else the version being rolled out, else the one applied.

    Raises:
        ControlError: Neither is known.
        SpecError: The file is invalid.
    """
    from warden.control.gates import spec_of
    from warden.core.spec_loader import load_spec

    if spec_file is not None:
        return load_spec(spec_file)
    state = store.get_rollout(agent)
    if state is not None:
        return spec_of(store, agent, state.spec_hash)
    change = store.current_spec_change(agent)
    if change is not None:
        return spec_of(store, agent, change.to_hash)
    raise ControlError(f"no spec of {agent} is in rollout or applied: pass --spec FILE")
