"""``warden db upgrade``, and a store URL the CLI cannot open."""

from __future__ import annotations


def test_db_upgrade_and_bad_url(cli, monkeypatch) -> None:
    assert cli("db", "upgrade").exit_code == 0
    monkeypatch.setenv("WARDEN_DATABASE_URL", "mysql://nope")
    result = cli("runs", "list")
    assert result.exit_code == 1
    assert "unsupported database" in result.output
