"""``pages/agent.py``: the agent page in plain words, and its kill-switch form (operator
role, two people to release, a reason, every step audited)."""

from __future__ import annotations

import html

import pytest

from tests.server.conftest import Pages
from warden.store import SqlStore


def test_agent_page_explains_spec_rollout_charts_and_readiness(pages: Pages) -> None:
    page = pages.as_("viewer").text("/agents/faq-bot")
    assert "Answer a customer's question with an article" in page  # scope in plain words
    assert "Looks things up" in page and "Makes changes" in page  # tool access
    assert "article must be in the form ^kb-[0-9]+$ (always required)" in page
    assert page.count('<svg class="chart"') == 3  # runs, rates, cost
    assert "Readiness review" in page and "To fix:" in page
    assert "Canary: live for a slice of traffic" in page
    assert "Shadow agreement 86 % over 40 runs" in page  # the timeline
    assert "Canary runs" in page  # the gate's checks
    router = pages.text("/agents/ticket-router")
    assert "Never allowed" in router and "Each run: at most 10 steps" in router
    assert "If the escalation rate is above 35 %" in router
    assert pages.get("/agents/nobody").status_code == 404


@pytest.mark.parametrize("who", ["viewer", "reviewer"])
def test_kill_switch_needs_the_operator_role(pages: Pages, store: SqlStore, who: str) -> None:
    page = pages.as_(who).text("/agents/ticket-router")
    assert "Engage kill switch" not in page and "needs the operator role" in page
    r = pages.post("/agents/ticket-router/kill-switch", {"action": "engage", "reason": "x"})
    assert r.status_code == 403
    text = html.unescape(r.text)
    assert "you need the operator role or higher" in text and f"with the {who} role" in text
    assert store.get_kill_switch("ticket-router").engaged is False
    refused = store.list_audit(agent="ticket-router")[-1]
    assert refused.action == "api.denied" and refused.actor == who


def test_operator_engages_the_kill_switch_and_two_people_release_it(
    pages: Pages, store: SqlStore
) -> None:
    pages.as_("operator")
    assert "Engage kill switch" in pages.text("/agents/ticket-router")
    r = pages.post(
        "/agents/ticket-router/kill-switch", {"action": "engage", "reason": "wrong queues"}
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith("/agents/ticket-router?done=engaged")
    state = store.get_kill_switch("ticket-router")
    assert state.engaged and state.actor == "operator" and state.reason == "wrong queues"
    entry = store.list_audit(agent="ticket-router")[-1]
    assert entry.action == "kill_switch.engaged" and entry.reason == "wrong queues"
    page = pages.text(r.headers["location"])
    assert "Kill switch engaged." in page and "Request release" in page
    assert "kill switch on: wrong queues" in pages.text("/")

    # turning it back on: the operator asks ...
    r = pages.post("/agents/ticket-router/kill-switch", {"action": "release", "reason": "fixed"})
    assert r.status_code == 303 and "done=requested" in r.headers["location"]
    assert store.get_kill_switch("ticket-router").engaged
    assert store.get_release_request("ticket-router").requested_by == "operator"  # type: ignore[union-attr]
    asked = pages.text("/agents/ticket-router")
    assert "Release requested." in pages.text(r.headers["location"])
    assert "You asked: another operator must approve." in asked and "Approve release" not in asked
    assert "release asked by operator" in pages.text("/")
    # ... and a second person approves
    second = pages.as_("owner").text("/agents/ticket-router")
    assert (
        "Approve release" in second and "Release requested by <strong>operator</strong>" in second
    )
    r = pages.post("/agents/ticket-router/kill-switch", {"action": "release", "reason": "checked"})
    assert r.status_code == 303 and "done=released" in r.headers["location"]
    released = store.get_kill_switch("ticket-router")
    assert not released.engaged and released.actor == "owner"
    actions = [e.action for e in store.list_audit(agent="ticket-router")][-3:]
    assert actions == [
        "kill_switch.engaged",
        "kill_switch.release_requested",
        "kill_switch.released",
    ]


def test_kill_switch_form_needs_a_reason(pages: Pages, store: SqlStore) -> None:
    pages.as_("operator")
    r = pages.post("/agents/ticket-router/kill-switch", {"action": "engage", "reason": "  "})
    assert r.status_code == 400 and "Say why" in r.text
    assert store.get_kill_switch("ticket-router").engaged is False
    r = pages.post("/agents/ticket-router/kill-switch", {"action": "explode", "reason": "x"})
    assert r.status_code == 400
    r = pages.post("/agents/nobody/kill-switch", {"action": "engage", "reason": "x"})
    assert r.status_code == 404
