"""Start-up: ``import warden`` and ``warden --help`` import none of the heavy machinery, a
command imports only what it needs, and every public name is still importable from the
same place (PEP 562 lazy exports).

Each check runs in a fresh interpreter: this process has imported everything already.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "alembic", "psycopg", "fastapi", "uvicorn", "opentelemetry", "cel")
"""Never needed to start: the store's, the server's, the tracer's, CEL's."""

COMMAND_MODULES = (
    "warden.cli.approvals",
    "warden.cli.audit",
    "warden.cli.db",
    "warden.cli.demo",
    "warden.cli.drill",
    "warden.cli.handoffs",
    "warden.cli.incidents",
    "warden.cli.kill_switch",
    "warden.cli.monitor",
    "warden.cli.outcomes",
    "warden.cli.page",
    "warden.cli.policy",
    "warden.cli.readiness",
    "warden.cli.rollout",
    "warden.cli.runs",
    "warden.cli.serve",
    "warden.cli.specs",
    "warden.cli.tokens",
)


def imported_after(code: str, cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    script = (
        "import sys\n"
        f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n' + __import__('json').dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith("warden.server")}


def test_import_warden_imports_no_models_and_no_store(tmp_path: Path) -> None:
    modules = imported_after("import warden", tmp_path)
    assert not heavy_in(modules)
    assert "pydantic" not in modules
    assert {m for m in modules if m.startswith("warden.")} == {
        "warden._lazy",
        "warden.errors",
    }  # the loader of lazy names


def test_warden_help_imports_no_command_and_nothing_heavy(tmp_path: Path) -> None:
    modules = imported_after(
        "from warden.cli.main import main; import sys; sys.argv = ['warden', '--help']; main()",
        tmp_path,
    )
    assert not heavy_in(modules)
    assert not modules & set(COMMAND_MODULES)
    assert "pydantic" not in modules
    assert "warden.core.spec" not in modules


@pytest.mark.parametrize(
    "args",
    [("kill", "A", "--reason", "R", "--force"), ("kill", "A", "--reason", "R")],
    ids=["engaged", "refused: never seen"],
)
def test_warden_kill_imports_the_store_but_no_server_and_no_other_command(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    from warden.store import SqlStore

    url = f"sqlite:///{tmp_path / 'w.db'}"
    SqlStore(url).close()  # kill acts on an existing store only
    env = os.environ | {"WARDEN_DATABASE_URL": url, "WARDEN_ACTOR": "dana"}
    code = (
        "from warden.cli.main import main; import sys; "
        f"sys.argv = ['warden', *{list(args)!r}]; main()"
    )
    modules = imported_after(code, tmp_path, env=env)
    assert "warden.store" in modules  # it did run
    assert not {m for m in modules if m.split(".")[0] in ("fastapi", "uvicorn", "opentelemetry")}
    assert not {m for m in modules if m.startswith(("warden.server", "warden.telemetry"))}
    assert not modules & (set(COMMAND_MODULES) - {"warden.cli.kill_switch"})
    assert "cel" not in modules
    assert "alembic" not in modules  # the store is at the newest schema: no migration


LAZY_PACKAGES = (
    "warden",
    "warden.core",
    "warden.runtime",
    "warden.sdk",
    "warden.testing",
    "warden.telemetry",
)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_is_importable_from_its_package(package: str) -> None:
    module = import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        defined_in = getattr(value, "__module__", None)
        if defined_in and defined_in.startswith("warden."):
            assert getattr(import_module(defined_in), name, value) is value, name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = module.nope


def test_from_warden_import_star_and_names_in_a_fresh_interpreter(tmp_path: Path) -> None:
    code = (
        "from warden import *\n"
        "from warden import Warden, Governor, AgentSpec, decide, load_spec, __version__\n"
        "from warden.core import Store, RunStatus\n"
        "from warden.runtime import Run, Proposal\n"
        "from warden.sdk import Settings, Warden as W\n"
        "from warden.testing import FakeClock, SwitchableStore\n"
        "from warden.telemetry import Tracing\n"
        "assert W is Warden and RunStatus.RESOLVED.value == 'resolved'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_in_process_the_store_start_up_leaves_the_collector_as_it_was(database_url: str) -> None:
    from warden.cli.shared import open_cli_store

    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with open_cli_store(database_url):
        assert gc.isenabled()  # paused only while the store is imported and opened
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # only the warden process itself freezes its heap
