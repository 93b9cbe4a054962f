"""The wheel, installed alone: build it, install it into a fresh virtualenv without extras
(pip fetches the dependencies), and use it from a directory outside the checkout.

It holds ``warden`` only (not the ticket-router example), declares every runtime
dependency (``import warden``, the remote store's httpx, ``warden --help``, a ``warden
kill`` on a new SQLite store with its migrations) and ``warden demo`` says how to install
the example. About a minute with a warm pip cache; it needs the package index. ``make
test-wheel`` (part of ``make test``) runs it; elsewhere it is skipped unless
``WARDEN_TEST_WHEEL=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("WARDEN_TEST_WHEEL") != "1",
        reason="builds and installs the wheel (network, ~1 min): make test-wheel",
    ),
]


def run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("warden-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    base = getattr(sys, "_base_executable", sys.executable)
    run(base, "-m", "venv", home / "venv", cwd=home)
    run(home / "venv/bin/python", "-m", "pip", "install", "--quiet", wheel, cwd=home)
    return home / "venv"


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment without anything pointing at this checkout or its store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "PYTHON"))}
    return env | {"WARDEN_HOME": str(tmp_path / "home"), "WARDEN_ACTOR": "wheel-test"}


def test_the_wheel_holds_warden_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top = {name.split("/")[0] for name in names}
        entry_points = zf.read("warden-0.1.0.dist-info/entry_points.txt").decode()
        metadata = zf.read("warden-0.1.0.dist-info/METADATA").decode()
    assert top == {"warden", "warden-0.1.0.dist-info"}
    assert "warden/store/migrations/alembic.ini" in names
    assert "warden = warden.cli.main:main" in entry_points
    assert "Requires-Dist: httpx" in metadata


def test_installed_alone_it_imports_and_runs_outside_the_checkout(
    venv: Path, tmp_path: Path
) -> None:
    env = clean_env(tmp_path)
    python, warden = venv / "bin/python", venv / "bin/warden"
    where = run(python, "-c", "import warden; print(warden.__file__)", cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv)
    run(
        python, "-c", "import warden.store.remote, warden.sdk, warden.server", cwd=tmp_path, env=env
    )
    assert "kill" in run(warden, "--help", cwd=tmp_path, env=env)
    url = f"sqlite:///{tmp_path / 'warden.db'}"
    run(warden, "db", "upgrade", "--database-url", url, cwd=tmp_path, env=env)  # migrations
    killed = run(
        warden,
        "kill",
        "A",
        "--reason",
        "R",
        "--force",
        "--database-url",
        url,
        cwd=tmp_path,
        env=env,
    )
    assert "ENGAGED" in killed
    missing = subprocess.run(
        [python, "-c", "import ticket_router"], cwd=tmp_path, env=env, capture_output=True
    )
    assert missing.returncode == 1  # the example is not in the warden wheel


def test_warden_demo_names_the_install_command_when_the_example_is_missing(
    venv: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [venv / "bin/warden", "demo"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "pip install -e examples" in done.stderr
