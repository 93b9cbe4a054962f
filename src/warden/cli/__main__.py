"""``python -m warden.cli``."""

from warden.cli.app import main

main()
