"""The root of ``warden``: every command is where ``COMMANDS`` says, with the help it lists,
and a mistyped command still gets a suggestion."""

from __future__ import annotations

import inspect
from importlib import import_module

import pytest
import typer
from typer.main import get_group
from typer.testing import CliRunner

from warden.cli.main import COMMANDS, app, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_lives_where_the_root_says_with_the_help_it_lists(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
    assert COMMANDS[name].help == first_paragraph


def test_every_command_module_is_listed() -> None:
    listed: dict[str, set[str]] = {}
    for name, entry in COMMANDS.items():
        listed.setdefault(entry.module, set()).add(name)
    for module, names in listed.items():
        module_app: typer.Typer = import_module(module).app
        group = get_group(module_app)
        if all(COMMANDS[n].group for n in names):
            assert len(names) == 1, f"{module} holds one command group"
        else:
            assert set(group.commands) == names, f"{module} holds exactly {sorted(names)}"


def test_the_root_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    lines = [line.strip("│ ").split(" ")[0] for line in result.output.splitlines()]
    assert [line for line in lines if line in COMMANDS] == list(COMMANDS)


def test_a_typo_gets_a_suggestion_and_exit_2() -> None:
    result = CliRunner().invoke(app, ["kil", "A", "--reason", "R"])
    assert result.exit_code == 2
    assert "No such command 'kil'" in result.output
    assert "Did you mean 'kill', 'unkill'?" in result.output


def test_no_arguments_prints_the_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "Usage:" in result.output
    assert "kill" in result.output


def test_warden_cli_main_is_the_module_and_the_package_exports_the_app() -> None:
    import warden.cli
    import warden.cli.main as root

    assert root.__name__ == "warden.cli.main"
    assert callable(root.main)
    assert warden.cli.app is root.app
