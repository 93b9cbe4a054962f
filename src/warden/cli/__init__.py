"""The ``warden`` command line."""

from warden.cli.app import app, main

__all__ = ["app", "main"]
