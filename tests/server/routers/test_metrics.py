"""``routers/metrics.py``: ``GET /metrics`` reads the store at scrape time (runs by state,
tool calls, durations, cost, budgets, kill switch, rollout stage, incidents, handoffs),
needs a viewer token, and passes ``promtool check metrics``; the shipped alert rules pass
``promtool check rules`` and the Grafana dashboard queries only metrics that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.server.conftest import ROUTER_TOOLS
from tests.server.demo import Demo, make_tokens
from warden.core.clock import SystemClock
from warden.core.incidents import IncidentStatus
from warden.core.metrics import LATENCY_BOUNDS_S
from warden.server import create_app
from warden.server.routers.metrics import BUCKET_BINS, EPOCH
from warden.store import SqlStore

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "warden-dashboard.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not on PATH (Debian's `prometheus` package; `make install` installs it)",
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(body: str) -> Samples:
    """Every sample of an exposition, by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_metrics_match_the_store(api, store: SqlStore, seeded) -> None:
    seeded()  # test-agent: 3 resolved, 1 blocked (a denied refund), 1 escalated
    r = api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    s = scrape(r.text)
    assert value(s, "warden_up") == 1
    live = {"agent": "test-agent", "mode": "live"}
    runs = {
        state: value(s, "warden_runs_total", **live, state=state)
        for state in ("resolved", "escalated", "errored", "blocked", "killed")
    }
    assert runs == {"resolved": 3, "escalated": 1, "errored": 0, "blocked": 1, "killed": 0}
    totals = store.run_totals("test-agent", since=EPOCH)
    assert sum(runs.values()) == totals.ended == 5
    calls = {
        st: value(s, "warden_tool_calls_total", **live, status=st)
        for st in ("denied", "failed", "other")
    }
    assert calls == {"denied": 2, "failed": 0, "other": 6}
    assert sum(calls.values()) == totals.tool_calls
    assert value(s, "warden_model_cost_usd_total", **live) == pytest.approx(totals.cost_usd)
    # the duration histogram: cumulative, every finished run under +Inf
    le = [
        value(s, "warden_run_duration_seconds_bucket", **live, le=str(LATENCY_BOUNDS_S[k]))
        for k in BUCKET_BINS
    ]
    assert le == sorted(le)
    assert value(s, "warden_run_duration_seconds_bucket", **live, le="+Inf") == 5
    assert le[-1] == 5  # seconds-long runs, well under the last bound
    # the rest of the agent's state
    assert value(s, "warden_kill_switch_engaged", agent="test-agent") == 0
    assert value(s, "warden_rollout_stage", agent="test-agent", stage="live") == 1
    assert value(s, "warden_rollout_stage", agent="test-agent", stage="paused") == 0
    assert value(s, "warden_open_handoffs", agent="test-agent") == store.count_handoffs(
        status="open", agents=["test-agent"]
    )
    assert value(s, "warden_open_incidents", agent="test-agent") == store.count_incidents(
        status=IncidentStatus.OPEN, agents=["test-agent"]
    )
    version = store.list_spec_versions("test-agent")[0]
    info = {"agent": "test-agent", "spec_version": version.version}
    assert value(s, "warden_agent_info", **info, spec_hash=version.content_hash) == 1


def test_counters_follow_new_runs_and_the_kill_switch(api, store: SqlStore, seeded) -> None:
    seeded()
    before = scrape(api.get("/metrics").text)
    seeded(resolved=2)
    store.set_kill_switch(
        "test-agent", engaged=True, reason="drill", actor="test", at=datetime.now(UTC)
    )
    after = scrape(api.get("/metrics").text)
    live = {"agent": "test-agent", "mode": "live"}
    assert value(before, "warden_runs_total", **live, state="resolved") == 3
    assert value(after, "warden_runs_total", **live, state="resolved") == 5
    assert value(after, "warden_runs_total", **live, state="blocked") == 2
    assert value(after, "warden_tool_calls_total", **live, status="denied") == 4
    assert value(before, "warden_kill_switch_engaged", agent="test-agent") == 0
    assert value(after, "warden_kill_switch_engaged", agent="test-agent") == 1
    assert value(after, "warden_rollout_stage", agent="test-agent", stage="paused") == 1
    assert value(after, "warden_rollout_stage", agent="test-agent", stage="live") == 0


def test_budget_remaining_is_limit_minus_today(
    api, store: SqlStore, make_governor, spec_factory
) -> None:
    spec = spec_factory(ROUTER_TOOLS, budgets={"per_day": {"max_runs": 10, "max_cost_usd": 2.5}})
    gov = make_governor(spec, clock=SystemClock())
    for i in range(3):
        with gov.run(input=f"ticket {i}") as run:
            run.resolve(output="ok")
    gov.flush()
    s = scrape(api.get("/metrics").text)
    runs_today, cost_today = store.daily_usage("test-agent", EPOCH)
    assert runs_today == 3
    assert value(s, "warden_daily_budget_limit_runs", agent="test-agent") == 10
    assert value(s, "warden_daily_budget_remaining_runs", agent="test-agent") == 7
    assert value(s, "warden_daily_budget_limit_usd", agent="test-agent") == 2.5
    left = value(s, "warden_daily_budget_remaining_usd", agent="test-agent")
    assert left == pytest.approx(2.5 - cost_today)


def test_metrics_need_a_viewer_and_stay_within_a_bound_token(api, seeded) -> None:
    seeded()
    assert api.client.get("/metrics").status_code == 401
    assert api.get("/metrics", "agent").status_code == 403
    own = scrape(api.get("/metrics", "router-bot").text)  # bound to test-agent
    assert value(own, "warden_kill_switch_engaged", agent="test-agent") == 0
    other = scrape(api.get("/metrics", "other-bot").text)  # bound to other-agent
    assert value(other, "warden_up") == 1
    assert not any(dict(labels).get("agent") == "test-agent" for _, labels in other)


def test_without_agents_only_up_and_empty_families(api) -> None:
    s = scrape(api.get("/metrics").text)
    assert value(s, "warden_up") == 1
    assert all(name == "warden_up" for name, _ in s)


@pytest.fixture
def demo_metrics(store: SqlStore, demo: Demo) -> Iterator[str]:
    """The ``/metrics`` body of the dashboard's demo store (three agents, two weeks)."""
    tokens = make_tokens(store, demo.clock)
    with TestClient(create_app(store, clock=demo.clock)) as client:
        r = client.get("/metrics", headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert r.status_code == 200
        yield r.text


def test_demo_store_reports_every_agent(demo_metrics: str) -> None:
    s = scrape(demo_metrics)
    agents = {dict(labels)["agent"] for name, labels in s if name == "warden_agent_info"}
    assert agents == {"ticket-router", "refund-helper", "faq-bot"}
    assert value(s, "warden_kill_switch_engaged", agent="refund-helper") == 1
    assert value(s, "warden_open_incidents", agent="refund-helper") >= 1
    assert value(s, "warden_rollout_stage", agent="faq-bot", stage="canary") == 1


@needs_promtool
def test_promtool_check_metrics_on_the_demo_store(demo_metrics: str) -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=demo_metrics,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_check_rules() -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _names(expr: str) -> set[str]:
    return set(re.findall(r"\bwarden_[a-z_]+", expr))


def test_rules_and_dashboard_query_metrics_that_exist(demo_metrics: str) -> None:
    exposed = {name for name, _ in scrape(demo_metrics)}
    rules = yaml.safe_load(RULES.read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    board = json.loads(DASHBOARD.read_text())
    exprs += [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert exprs
    used = set().union(*(_names(e) for e in exprs))
    assert used <= exposed, used - exposed
