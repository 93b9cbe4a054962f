"""Spec versions on the database under test: stored once per content hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warden.core.runs import SpecVersion

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_spec_versions_are_keyed_by_content_hash(store) -> None:
    v = SpecVersion(agent="a", content_hash="abc", version="1", spec={"x": 1}, created_at=T0)
    first = store.save_spec_version(v)
    again = store.save_spec_version(v.model_copy(update={"created_at": T0 + timedelta(days=1)}))
    assert first == again
    assert again.created_at == T0
    assert store.get_spec_version("a", "missing") is None
