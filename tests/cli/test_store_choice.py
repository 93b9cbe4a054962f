"""Which store a command acts on: operator commands never create one, and say which one.

``warden kill`` in a folder without a store and without ``WARDEN_DATABASE_URL`` used to
create ``./.warden/warden.db`` and engage the switch there, while the real agent ran on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warden.cli.main import app

SPEC = Path(__file__).parents[2] / "examples" / "ticket_router" / "agent.yaml"

OPERATOR_COMMANDS: list[list[str]] = [
    ["kill", "a", "--reason", "r"],
    ["kill", "a", "--reason", "r", "--force"],
    ["unkill", "a", "--reason", "r"],
    ["rollout", "advance", "a", "--reason", "r"],
    ["rollout", "rollback", "a", "--reason", "r"],
    ["approvals", "approve", "apr_1"],
    ["approvals", "deny", "apr_1", "--reason", "r"],
    ["spec", "apply", str(SPEC)],
    ["spec", "approve", "abc123"],
    ["outcomes", "record", "a", "run_1", "--action", "null"],
    ["incidents", "ack", "inc_1"],
    ["incidents", "resolve", "inc_1", "--reason", "r"],
    ["runs", "reap"],
    ["drill", "kill-switch", "a"],
    ["page", "test", "a"],
    ["monitor", "--once"],
]


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without a store, and no store named in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("WARDEN_DATABASE_URL", "WARDEN_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WARDEN_ACTOR", "oncall-dana")
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("args", OPERATOR_COMMANDS, ids=" ".join)
def test_operator_commands_never_create_a_store(bare: Path, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "ENGAGED" not in result.output
    assert f"no Warden store at {bare / '.warden' / 'warden.db'}" in result.stderr
    assert "the default" in result.stderr
    assert "--database-url" in result.stderr and "WARDEN_DATABASE_URL" in result.stderr
    assert not (bare / ".warden").exists()


def test_a_missing_store_named_by_option_or_environment_is_refused_too(
    bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = f"sqlite:///{bare / 'prod' / 'wardn.db'}"
    by_option = invoke("kill", "a", "--reason", "r", "--database-url", typo)
    assert by_option.exit_code == 2
    assert f"no Warden store at {bare / 'prod' / 'wardn.db'}" in by_option.stderr
    assert "(from --database-url)" in by_option.stderr
    monkeypatch.setenv("WARDEN_DATABASE_URL", typo)
    by_env = invoke("unkill", "a", "--reason", "r")
    assert by_env.exit_code == 2
    assert "(from WARDEN_DATABASE_URL)" in by_env.stderr
    assert not (bare / "prod").exists()


def test_db_upgrade_creates_the_store_then_operator_commands_name_it(bare: Path) -> None:
    created = invoke("db", "upgrade")
    assert created.exit_code == 0, created.output
    db = (bare / ".warden" / "warden.db").resolve()
    assert db.exists()
    killed = invoke("kill", "a", "--reason", "r", "--force", "--json")
    assert killed.exit_code == 0, killed.output
    assert json.loads(killed.stdout)["engaged"] is True  # stdout stays JSON
    assert f"store: sqlite:///{db}\n" in killed.stderr
    asked = invoke("unkill", "a", "--reason", "fixed")
    assert f"store: sqlite:///{db}" in asked.stderr
    assert "another person must approve" in asked.stdout


def test_read_only_commands_keep_their_behaviour(bare: Path) -> None:
    assert invoke("runs", "list", "--json").stdout.strip() == "[]"


def test_the_store_line_masks_the_password(bare: Path) -> None:
    from warden.cli.shared import describe_store

    url = "postgresql+psycopg://dana:s3cret@127.0.0.1:1/warden"
    assert describe_store(url) == "postgresql+psycopg://dana:***@127.0.0.1:1/warden"
    result = invoke("kill", "a", "--reason", "r", "--database-url", url)
    assert result.exit_code == 1  # nothing listens on port 1
    assert "store: postgresql+psycopg://dana:***@127.0.0.1:1/warden" in result.stderr
    assert "s3cret" not in result.output
