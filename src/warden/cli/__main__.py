"""``python -m warden.cli``."""

from warden.cli.main import main

main()
