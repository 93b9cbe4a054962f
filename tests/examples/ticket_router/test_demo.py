"""``warden demo`` end to end on the real data (both databases), and its determinism."""

from __future__ import annotations

from pathlib import Path

from tests.examples.ticket_router.conftest import DATA, MODELS
from ticket_router.data import Banking77
from ticket_router.demo import DemoSettings, run_demo
from warden.core.runs import RunFilter
from warden.store import SqlStore

KEYS = {
    "runs", "states", "shadow_agreement", "shadow_agreement_ci95", "escalation_rate",
    "policy_denials", "refunds_executed", "retries", "tool_failures",
    "killed_routed_to_humans", "cost_per_completed_usd", "latency_ms_p50", "latency_ms_p95",
}  # fmt: skip


def test_the_demo_goes_shadow_canary_live_and_pauses_once_on_crm_failures(
    banking77: Banking77, database_url: str, tmp_path: Path
) -> None:
    report = run_demo(
        DemoSettings(data_dir=DATA, database_url=database_url, home=tmp_path, model_cache=MODELS)
    )
    data = report.as_json()
    assert set(data) >= KEYS
    assert report.runs == 3080 + 16
    assert report.refunds_executed == report.accounts_closed == report.emails_sent == 0
    assert all(r.stopped for r in report.redteam), report.redteam
    assert [(before, after) for _, before, after, _ in report.stages] == [
        ("-", "shadow"),
        ("shadow", "canary"),
        ("canary", "live"),
    ]
    days = [day for day, *_ in report.stages]
    assert days[1] >= 14 and days[2] - days[1] >= 14  # the gates' minimum days held
    [pause] = [i for i in report.incidents if i["mode"] == "enforce"]
    assert pause["criterion"].startswith("tool_failure_rate") and pause["applied"].startswith(
        "paused"
    )
    assert report.killed_routed_to_humans > 0
    assert 0.80 < (report.shadow_agreement or 0) < 0.95  # what the classifier really does
    low, high = report.shadow_agreement_ci95
    assert low < (report.shadow_agreement or 0) < high
    store = SqlStore(database_url)
    try:
        runs = store.list_runs(RunFilter(agent="ticket-router", limit=10_000))
        assert len(runs) == report.runs
        assert all(r.status.is_terminal for r in runs)
        assert store.verify_audit().intact
    finally:
        store.close()


def test_the_same_seed_gives_the_same_numbers(banking77: Banking77, tmp_path: Path) -> None:
    def once(home: Path) -> dict[str, object]:
        settings = DemoSettings(data_dir=DATA, home=home, model_cache=MODELS, tickets=400)
        data = run_demo(settings).as_json()
        return {
            k: v
            for k, v in data.items()
            if k not in ("timeline", "incidents", "redteam", "database_url")
        }

    assert once(tmp_path / "a") == once(tmp_path / "b")
