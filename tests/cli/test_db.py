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


def test_prune(cli, seen, store, monkeypatch) -> None:
    import json

    seen("ticket-router")  # a run that ended 2026-01-01
    assert "nothing to do" in cli("db", "prune").output
    assert cli("db", "prune", "--older-than-days", "0.001").exit_code == 2
    monkeypatch.setenv("WARDEN_RETENTION_DAYS", "30")
    result = cli("db", "prune", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["agent"], r["runs"]) for r in json.loads(result.stdout)] == [("ticket-router", 1)]
    assert store.get_run("run_seen_ticket-router") is None
    assert store.verify_audit().runs_pruned == 1
    monkeypatch.setenv("WARDEN_RETENTION_DAYS", "soon")
    assert cli("db", "prune").exit_code != 0
