"""What every ``warden`` command module shares: consoles, common options, JSON output,
the store as a context manager, and who is acting.

Exit codes: 0 success, 1 operation failed (e.g. not found), 2 invalid input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Generator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, TypeAdapter
from rich.console import Console

from warden.errors import SpecError, WardenError
from warden.sdk.settings import Settings
from warden.store import SqlStore, open_store

__all__ = [
    "DbUrl",
    "JsonFlag",
    "actor",
    "err",
    "exit_on_spec_error",
    "open_cli_store",
    "out",
    "print_json",
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
    if isinstance(value, BaseModel):
        sys.stdout.write(value.model_dump_json(indent=2, by_alias=True) + "\n")
    else:
        data = TypeAdapter(Any).dump_python(value, mode="json", by_alias=True)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")


@contextmanager
def open_cli_store(database_url: str | None) -> Generator[SqlStore, None, None]:
    """Open the store; a Warden error inside prints ``error (code): message`` and exits 1."""
    settings = Settings.from_env(database_url)
    try:
        store = open_store(settings.database_url)
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
    return Settings.from_env().actor


def exit_on_spec_error(exc: SpecError) -> NoReturn:
    """Print every problem of an invalid spec as ``FILE:LINE: path: message`` and exit 2."""
    for p in exc.problems:
        err.print(str(p), markup=False)
    raise typer.Exit(2) from None
