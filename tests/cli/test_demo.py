"""``warden demo`` finds the example through the ``warden.demos`` entry point, and says how to
install it when it is not there. (The demo itself: tests/examples/ticket_router/.)"""

from __future__ import annotations

import importlib.metadata

from typer.testing import CliRunner

from warden.cli.demo import DEMOS_GROUP, load_demo
from warden.cli.main import app


def test_the_installed_example_is_found_by_its_entry_point() -> None:
    (entry,) = importlib.metadata.entry_points(group=DEMOS_GROUP, name="ticket-router")
    assert entry.value == "ticket_router.demo"
    demo = load_demo()
    assert demo.__name__ == "ticket_router.demo"
    assert callable(demo.run_demo) and callable(demo.DemoSettings)


def test_without_the_example_the_demo_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda **_: importlib.metadata.EntryPoints(())
    )
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 2
    assert "the ticket-router demo is not installed" in result.output
    assert "pip install -e examples" in result.output
    assert "make install" in result.output
