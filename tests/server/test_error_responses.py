"""HTTP error responses (``server/error_responses.py``): what the store refuses is a JSON
4xx, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/api/runs?agent=%00", "/api/runs/run_%00", "/api/agents/a%00b"])
def test_a_nul_character_is_a_400_not_a_crash(api, path: str) -> None:
    r = api.get(path)
    assert r.status_code < 500  # PostgreSQL refuses NUL in text: a 400, never a 500
    assert r.json() is not None
