"""The ``warden`` command line: the root is ``warden.cli.main`` (``main`` is the script's
entry point), and each command group is a module of its own, imported when it runs."""

from warden.cli.main import app

__all__ = ["app"]
