"""``warden db upgrade``, and a store URL the CLI cannot open."""

from __future__ import annotations


def test_db_upgrade_and_bad_url(cli, monkeypatch) -> None:
    assert cli("db", "upgrade").exit_code == 0
    monkeypatch.setenv("WARDEN_DATABASE_URL", "mysql://nope")
    result = cli("runs", "list")
    assert result.exit_code == 1
    assert "unsupported database" in result.output


def test_rebuild_rollups(cli, seen, store) -> None:
    from datetime import UTC, datetime, timedelta

    seen("ticket-router")
    before = store.run_totals("ticket-router", since=datetime.now(UTC) - timedelta(days=3650))
    assert before.finished == 1
    result = cli("db", "rebuild-rollups")
    assert result.exit_code == 0, result.output
    assert "rebuilt from 1 ended run(s)" in result.output
    assert (
        store.run_totals("ticket-router", since=datetime.now(UTC) - timedelta(days=3650)) == before
    )
