"""What every ``warden`` command module shares: consoles, common options, JSON output,
the store as a context manager, who is acting, and the spec in force.

Light on purpose: every command imports it, so the store (SQLAlchemy), pydantic and the
control functions are imported inside the functions that use them.

Exit codes: 0 success, 1 operation failed (e.g. not found), 2 invalid input.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from warden.errors import ControlError, SpecError, WardenError

if TYPE_CHECKING:
    from warden.core.ports import Store
    from warden.core.spec import AgentSpec
    from warden.store import SqlStore

__all__ = [
    "DbUrl",
    "JsonFlag",
    "actor",
    "err",
    "exit_on_spec_error",
    "mark_standalone",
    "open_cli_store",
    "out",
    "print_json",
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


@contextmanager
def open_cli_store(database_url: str | None) -> Generator[SqlStore, None, None]:
    """Open the store; a Warden error inside prints ``error (code): message`` and exits 1."""
    try:
        with _start_up():
            from warden.sdk.settings import Settings
            from warden.store import open_store

            store = open_store(Settings.from_env(database_url).database_url)
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


def actor() -> str:
    """Who is acting: ``WARDEN_ACTOR``, else the OS user."""
    from warden.sdk.settings import Settings

    return Settings.from_env().actor


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
