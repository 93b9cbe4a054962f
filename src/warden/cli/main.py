"""The ``warden`` command line (Typer + Rich): the root, and where each command lives.

Each command group is its own module, named for it (``warden runs`` is ``cli/runs.py``),
with a ``typer.Typer`` called ``app``. The root imports none of them: ``COMMANDS`` names the
module of every top-level command and the first paragraph of its help, ``warden --help``
lists them from there, and a module is imported only when its command runs (or its own
``--help`` is asked for). A command module imports what its options need; the store, the
server and the control functions are imported inside the command functions. So
``warden kill`` at 2 a.m. starts without FastAPI, OpenTelemetry or the other commands.

Every command that reads the store takes ``--database-url`` (default
``WARDEN_DATABASE_URL``, else ``sqlite:///.warden/warden.db``); operator commands never
create a store and name the one they act on, on stderr (``cli.shared.open_cli_store``).
``--json`` prints the core pydantic models, for scripts. Exit codes: 0 success, 1
operation failed (e.g. not found), 2 invalid input (e.g. an invalid spec, a missing store,
an agent the store has never seen, an ambiguous run id prefix).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

__all__ = ["COMMANDS", "Entry", "app", "load_command", "main"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A top-level command: the module that defines it, and its help's first paragraph.

    ``group`` is true when the module's ``app`` is the command group itself (``warden runs
    list``), false when the module's ``app`` holds the command by this name (``warden kill``).
    """

    module: str
    help: str
    group: bool = True


# In the order ``warden --help`` lists them. tests/cli/test_main.py checks each help here
# against the command's own.
COMMANDS: dict[str, Entry] = {
    "readiness": Entry(
        "warden.cli.readiness",
        "The readiness review: exit 0 when every item passes, 1 listing the fixes when not.",
        group=False,
    ),
    "demo": Entry(
        "warden.cli.demo",
        "Six simulated weeks of the ticket router on real BANKING77 traffic.",
        group=False,
    ),
    "serve": Entry(
        "warden.cli.serve",
        "Run the API, OTLP ingest and dashboard on uvicorn against the store.",
        group=False,
    ),
    "monitor": Entry(
        "warden.cli.monitor",
        "Evaluate kill criteria, escalate unacknowledged incidents, auto-advance: in a loop.",
        group=False,
    ),
    "kill": Entry(
        "warden.cli.kill_switch",
        "Engage the kill switch: new runs and in-flight runs stop before their next call.",
        group=False,
    ),
    "unkill": Entry(
        "warden.cli.kill_switch",
        "Turn the agent back on: the first person asks, a different person approves.",
        group=False,
    ),
    "spec": Entry("warden.cli.specs", "Validate, show, apply and approve agent specs."),
    "runs": Entry("warden.cli.runs", "List and explain runs."),
    "approvals": Entry("warden.cli.approvals", "Decide calls waiting for a person."),
    "handoffs": Entry("warden.cli.handoffs", "The human queue: runs handed to people."),
    "db": Entry("warden.cli.db", "The store's schema."),
    "policy": Entry("warden.cli.policy", "Test a policy against recorded traffic."),
    "audit": Entry("warden.cli.audit", "The audit log: every state-changing act, hash-chained."),
    "rollout": Entry("warden.cli.rollout", "Rollout: shadow -> canary -> live, with gates."),
    "outcomes": Entry(
        "warden.cli.outcomes", "What people actually did, compared with shadow proposals."
    ),
    "incidents": Entry("warden.cli.incidents", "Incidents opened by kill criteria."),
    "slo": Entry("warden.cli.slo", "SLOs: error budgets and burn-rate alerts."),
    "page": Entry("warden.cli.page", "The on-call channels."),
    "drill": Entry("warden.cli.drill", "Drills: practise the emergency before it happens."),
    "token": Entry("warden.cli.tokens", "API tokens for the control plane."),
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """Import the module of top-level command ``name`` and build its Click command."""
    entry = COMMANDS[name]
    module_app: typer.Typer = import_module(entry.module).app
    group = get_group(module_app)
    if entry.group:
        group.name = name
        return group
    command = group.commands[name]
    assert isinstance(command, TyperCommand | TyperGroup)
    return command


class _Placeholder(TyperCommand):
    """Stands for a command whose module is not imported yet: its name and help only."""


class _LazyGroup(TyperGroup):
    """The root group: every command starts as a placeholder and is loaded on first use.

    Listing the commands (``warden --help``) uses the placeholders; running a command, its
    ``--help`` or shell completion loads the real one.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            self.commands.setdefault(name, _Placeholder(name, help=entry.help))
        self._listing = False

    # ``Any``: Typer's Click types are private to Typer (``typer._click`` in 0.2x, ``click``
    # before); these overrides only pass them through.
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Placeholder) and not self._listing:
            command = self.commands[cmd_name] = load_command(cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _root() -> None:
    """Warden: the operations layer for AI agents."""


app = typer.Typer(
    help="Warden: the operations layer for AI agents.",
    no_args_is_help=True,
    cls=_LazyGroup,
    callback=_root,
)


def main() -> None:
    """Console-script entry point.

    On the way out the heap is frozen, so the interpreter's final garbage collections do not
    walk every object the command loaded only to find no garbage: about 150 ms of a ``warden
    kill`` (bench/README.md, "Start-up"). Freezing changes nothing else: the process ends.
    """
    from warden.cli.shared import mark_standalone

    mark_standalone()
    try:
        app()
    finally:
        gc.freeze()
