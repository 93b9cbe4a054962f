"""``routers/health.py``: ``/healthz`` answers while the store is reachable."""

from __future__ import annotations


def test_healthz(api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
