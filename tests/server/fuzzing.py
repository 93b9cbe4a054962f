"""What the fuzz tests share: how many examples, whether they are random, the agent they
write as, the column limit generated strings reach past, and the OTLP content types.

``WARDEN_FUZZ_EXAMPLES`` (default 20 per operation and mode) scales every pass;
``WARDEN_FUZZ_RANDOM=1`` draws new inputs each run (default: the same inputs every run).
A long local hunt: ``WARDEN_FUZZ_EXAMPLES=300 WARDEN_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("WARDEN_FUZZ_EXAMPLES", "20"))
"""Examples per operation and generation mode (admin pass); the other passes scale with it."""
RANDOM = os.environ.get("WARDEN_FUZZ_RANDOM", "") not in ("", "0")
"""``WARDEN_FUZZ_RANDOM=1``: new random inputs each run (default: the same inputs every run)."""

AGENT = "test-agent"

STR_MAX = 64
"""PostgreSQL enforces ``varchar(n)``: ids and names are ``varchar(64)`` (SQLite ignores n)."""

OTLP_PROTOBUF = "application/x-protobuf"
OTLP_JSON = "application/json"


def fuzz_settings(max_examples: int) -> settings:
    """Hypothesis settings for a pass of ``max_examples`` (derandomized unless ``RANDOM``)."""
    return settings(
        max_examples=max(1, max_examples),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
