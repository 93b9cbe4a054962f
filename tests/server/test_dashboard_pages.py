"""The dashboard pages over the demo data, through the ASGI app (no browser): every page
renders, filters work, sign-in, roles on forms, CSRF, and that every change is audited."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.server.demo import Demo, make_tokens, seed_demo
from warden.core.clock import SystemClock
from warden.core.runs import ApprovalStatus, RunFilter, RunStatus
from warden.errors import StoreUnavailable
from warden.server import create_app
from warden.server.pages import review
from warden.store import SqlStore
from warden.store import tables as t


class Pages:
    """A browser-like client: a cookie jar, a signed-in token, and forms with their CSRF token."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def as_(self, who: str | None) -> Pages:
        self.client.cookies.delete("warden_token")
        if who is not None:
            self.client.cookies.set("warden_token", self.tokens[who])
        return self

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def text(self, path: str) -> str:
        r = self.client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return html.unescape(r.text)

    def csrf(self) -> str:
        if not self.client.cookies.get("warden_csrf"):
            self.client.get("/login")  # any page sets it
        token = self.client.cookies.get("warden_csrf")
        assert token
        return token

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True, **kw: Any) -> Any:
        body = {"csrf": self.csrf(), **data} if csrf else data
        return self.client.post(path, data=body, follow_redirects=False, **kw)


@pytest.fixture
def demo(store: SqlStore, make_governor) -> Demo:
    return seed_demo(store, make_governor)


@pytest.fixture
def pages(store: SqlStore, demo: Demo) -> Iterator[Pages]:
    tokens = make_tokens(store, demo.clock)
    with TestClient(create_app(store, clock=demo.clock)) as client:
        yield Pages(client, tokens)


def _ids(rows: list[str]) -> set[str]:
    return {m.group(1) for r in rows if (m := re.search(r'data-run="([^"]+)"', r))}


def _rows(page: str, table: str = "runs") -> list[str]:
    body = page.split(f'<table class="{table}">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body.split("<tbody>", 1)[1], re.S)


# -- every page --------------------------------------------------------------------------


def test_every_page_renders_with_the_demo_data(pages: Pages, demo: Demo, store: SqlStore) -> None:
    pages.as_("viewer")
    waiting = store.get_approval(demo.approval)
    assert waiting is not None
    for path in [
        "/",
        "/agents/ticket-router",
        "/agents/refund-helper",
        "/agents/faq-bot",
        "/runs",
        f"/runs/{demo.denied_run}",
        f"/runs/{demo.resolved_run}",
        f"/runs/{demo.retried_run}",
        f"/runs/{waiting.run_id}",
        "/queue",
        "/audit",
        "/static/warden.css",
    ]:
        r = pages.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    page = pages.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "cdn" not in page.text.lower() and "https://" not in page.text  # nothing external


def test_fleet_page_shows_each_agent_red_first_with_its_numbers(pages: Pages) -> None:
    page = pages.as_("viewer").text("/")
    rows = _rows(page, "fleet")
    agents = [re.search(r'data-agent="([^"]+)"', r).group(1) for r in rows]  # type: ignore[union-attr]
    assert agents == ["refund-helper", "faq-bot", "ticket-router"]
    refund, faq, router = rows
    assert "Red" in refund and "kill switch on: Cost per refund tripled" in refund
    assert "1 open incident(s)" in refund and ">ON<" in refund
    assert "dana@example.com" in refund and "backup: erik@example.com" in refund
    assert "canary" in faq and "25 % of traffic" in faq
    assert "Amber" in router and "readiness: 3 item(s) failing" in router
    assert re.search(r'class="num">\d+</td>', router)  # runs today
    assert "%" in router and "$" in router  # rates and cost per completed run
    assert "to fix" in router  # readiness
    assert "calls waiting for approval" in page


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


def test_run_page_tells_the_decision_trail_in_plain_language(pages: Pages, demo: Demo) -> None:
    page = pages.as_("viewer").text(f"/runs/{demo.denied_run}")
    assert "Blocked." in page and "The policy stopped it." in page
    assert "Denied issue_refund:" in page
    assert "issue_refund is blocked for this agent: it may never use it." in page
    assert "Allowed" in page and "(rule: access)" in page
    assert "Step 2: model gpt-4o-mini read" in page  # the story
    assert "Ended blocked after" in page
    # JSON only inside the collapsed technical details
    visible, technical = page.split('<details class="technical">')
    assert '{"' not in visible and '"tool_calls"' in technical
    retried = pages.text(f"/runs/{demo.retried_run}")
    assert "Tried 2 times (1 retry)." in retried
    assert pages.get("/runs/run_nope").status_code == 404


def test_runs_filters(pages: Pages, demo: Demo, store: SqlStore) -> None:
    pages.as_("viewer")
    everything = _rows(pages.text("/runs?state=&mode="))
    assert len(everything) == 50 and "Older runs" in pages.text("/runs")

    blocked = _rows(pages.text("/runs?state=blocked"))
    assert blocked and all(">Blocked<" in r for r in blocked)
    denied = _rows(pages.text("/runs?denied=1"))
    assert any(demo.denied_run in r for r in denied)
    assert not any(demo.resolved_run in r for r in denied)

    shadow = _rows(pages.text("/runs?mode=shadow"))
    # faq-bot is in shadow, and so is the ticket router (its spec has a rollout plan);
    # refund-helper has no rollout: all its runs are live
    assert shadow and not any("refund-helper" in r for r in shadow)
    mine = _rows(pages.text("/runs?agent=refund-helper"))
    assert mine and all("refund-helper" in r for r in mine)

    first_day = _rows(pages.text("/runs?since=2026-03-02&until=2026-03-02"))
    assert first_day and all("2026-03-02" in r for r in first_day)
    assert "No runs match" in pages.text("/runs?since=2030-01-01")

    odd = pages.text("/runs?state=bogus&since=yesterday")
    assert "Unknown state 'bogus'; ignored." in odd and "is not a date" in odd

    # paging: the next page starts where the first ended, without overlap
    first = pages.text("/runs")
    link = re.search(r'href="(/runs\?[^"]*after_id=[^"]+)"', first)
    assert link is not None
    second = _rows(pages.text(link.group(1)))
    assert second and not _ids(second) & _ids(_rows(first))
    total = len(store.list_runs(RunFilter(limit=10_000)))
    assert len(second) == min(50, total - 50)


def test_queue_shows_waiting_calls_and_handoff_packets(pages: Pages, demo: Demo) -> None:
    page = pages.as_("reviewer").text("/queue")
    assert f'id="approval-{demo.approval}"' in page
    assert "issue_refund needs a person's approval when amount > 100 (here 180)." in page
    assert "The blender arrived broken." in page  # the task
    assert 'lookup_order(order="o-7781") ran and succeeded' in page  # what it did before
    assert 'name="decision" value="approve"' in page
    assert "Runs handed to people" in page and "tier1-humans queue" in page
    assert "The agent was not confident enough." in page
    viewer = pages.as_("viewer").text("/queue")
    assert 'value="approve"' not in viewer and "needs the reviewer role" in viewer


def test_audit_page_shows_the_chain_status_and_notices_tampering(
    pages: Pages, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = pages.as_("viewer").text("/audit")
    assert "Chain intact" in page and "Kill switch engaged" in page
    monkeypatch.setattr(review, "AUDIT_PAGE", 3)
    first = pages.text("/audit")
    assert len(_rows(first, "audit")) == 3 and "Older entries" in first
    older = re.search(r'href="(/audit\?before=\d+)"', first).group(1)  # type: ignore[union-attr]
    assert len(_rows(pages.text(older), "audit")) == 3
    only = _rows(pages.text("/audit?agent=refund-helper"), "audit")
    assert only and all("refund-helper" in r for r in only)
    with store.engine.begin() as conn:
        conn.execute(sa.update(t.audit_log).where(t.audit_log.c.seq == 2).values(reason="edited"))
    broken = pages.text("/audit")
    assert "Chain broken" in broken and "Entry #2" in broken


# -- sign-in -------------------------------------------------------------------------------


def test_pages_redirect_to_login_until_signed_in(pages: Pages) -> None:
    pages.as_(None)
    for path in ["/", "/runs?state=blocked", "/queue", "/audit", "/agents/faq-bot"]:
        r = pages.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    r = pages.get("/runs?state=blocked", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Fruns%3Fstate%3Dblocked"
    form = pages.text("/login")
    assert 'type="password"' in form
    bad = pages.post("/login", {"token": "wdn_nope_nope", "next": "/queue"})
    assert bad.status_code == 401 and "That token is not valid" in html.unescape(bad.text)
    ok = pages.post("/login", {"token": pages.tokens["viewer"], "next": "/runs?state=blocked"})
    assert ok.status_code == 303 and ok.headers["location"] == "/runs?state=blocked"
    cookie = ok.headers["set-cookie"].lower()
    assert "warden_token=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert pages.get("/").status_code == 200  # the cookie now signs every page in
    out = pages.post("/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert pages.get("/", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(pages: Pages) -> None:
    for target in ["//evil.example", "https://evil.example/", "/\\evil.example"]:
        r = pages.post("/login", {"token": pages.tokens["viewer"], "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_revoked_token_is_sent_back_to_login(pages: Pages, store: SqlStore) -> None:
    pages.as_("viewer")
    assert pages.get("/").status_code == 200
    token = next(tok for tok in store.list_tokens() if tok.name == "viewer")
    store.revoke_token(token.id, SystemClock().now())
    r = pages.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (
        'warden_token=""' in r.headers["set-cookie"]
        or "max-age=0" in r.headers["set-cookie"].lower()
    )
    denied = [e for e in store.list_audit() if e.action == "api.denied"]
    assert denied and denied[-1].reason == "missing or unknown token"


def test_with_auth_off_there_is_no_login(store: SqlStore, demo: Demo) -> None:
    with TestClient(create_app(store, clock=demo.clock, auth=False)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "sign-in is off" in page.text
        r = client.get("/login?next=/queue", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/queue"
        # forms still need their CSRF token (no session cookie to lean on here)
        forged = client.post(
            "/agents/ticket-router/kill-switch",
            data={"action": "engage", "reason": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert store.get_kill_switch("ticket-router").engaged is False


def test_a_token_bound_to_an_agent_sees_only_that_agent(
    pages: Pages, demo: Demo, store: SqlStore
) -> None:
    pages.as_("router-bot")
    fleet = pages.text("/")
    assert [re.search(r'data-agent="([^"]+)"', r).group(1) for r in _rows(fleet, "fleet")] == [  # type: ignore[union-attr]
        "ticket-router"
    ]
    assert pages.get("/agents/refund-helper").status_code == 403
    runs = _rows(pages.text("/runs?agent=refund-helper"))
    assert runs and all("ticket-router" in r for r in runs)
    waiting = store.get_approval(demo.approval)
    assert waiting is not None
    assert pages.get(f"/runs/{waiting.run_id}").status_code == 403
    assert demo.approval not in pages.text("/queue")
    audit = _rows(pages.text("/audit"), "audit")
    assert all("refund-helper" not in r for r in audit)


# -- forms: roles, CSRF, audit ---------------------------------------------------------------


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


def test_forms_refuse_requests_without_the_csrf_token(pages: Pages, store: SqlStore) -> None:
    pages.as_("operator")
    missing = pages.post(
        "/agents/ticket-router/kill-switch", {"action": "engage", "reason": "x"}, csrf=False
    )
    assert missing.status_code == 403 and "This form has expired" in missing.text
    wrong = pages.post(
        "/agents/ticket-router/kill-switch",
        {"action": "engage", "reason": "x", "csrf": "guess"},
        csrf=False,
    )
    assert wrong.status_code == 403
    other_site = pages.post(
        "/agents/ticket-router/kill-switch",
        {"action": "engage", "reason": "x"},
        headers={"origin": "https://evil.example"},
    )
    assert other_site.status_code == 403 and "another site" in other_site.text
    assert store.get_kill_switch("ticket-router").engaged is False
    login = pages.as_(None).post("/login", {"token": pages.tokens["admin"]}, csrf=False)
    assert login.status_code == 403  # login CSRF too


def test_reviewer_approves_and_denies_with_a_reason(
    pages: Pages, demo: Demo, store: SqlStore
) -> None:
    r = pages.as_("viewer").post(
        f"/approvals/{demo.approval}", {"decision": "approve", "reason": "ok"}
    )
    assert r.status_code == 403 and "you need the reviewer role" in html.unescape(r.text)
    assert store.get_approval(demo.approval).status is ApprovalStatus.PENDING  # type: ignore[union-attr]
    pages.as_("reviewer")
    r = pages.post(f"/approvals/{demo.approval}", {"decision": "approve", "reason": ""})
    assert r.status_code == 400 and "Say why" in r.text
    r = pages.post(
        f"/approvals/{demo.approval}", {"decision": "approve", "reason": "receipt checked"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/queue?done=approved"
    decided = store.get_approval(demo.approval)
    assert decided is not None and decided.status is ApprovalStatus.APPROVED
    assert decided.decided_by == "reviewer" and decided.decision_reason == "receipt checked"
    entry = store.list_audit(agent="refund-helper")[-1]
    assert entry.action == "approval.approved" and entry.subject == demo.approval
    assert "Approved." in pages.text("/queue?done=approved")
    again = pages.post(f"/approvals/{demo.approval}", {"decision": "deny", "reason": "no"})
    assert again.status_code == 409 and "already approved" in again.text
    assert (
        pages.post("/approvals/apr_nope", {"decision": "deny", "reason": "no"}).status_code == 404
    )


def test_an_approval_from_the_dashboard_lets_the_waiting_run_go_on(
    store: SqlStore, make_governor, spec_factory
) -> None:
    clock = SystemClock()
    tokens = make_tokens(store, clock)  # type: ignore[arg-type]
    spec = spec_factory({"pay": {"access": "approval", "arguments": {"amount": {"max": 500}}}})
    gov = make_governor(spec, clock=clock, approval_poll_s=0.02)

    @gov.tool
    def pay(amount: float) -> str:
        return f"paid {amount}"

    outcome: dict[str, Any] = {}

    def agent() -> None:
        with gov.run(input="pay the invoice") as run:
            outcome["result"] = run.call("pay", amount=120.0)
            run.resolve(output=outcome["result"])
        outcome["run"] = run

    worker = threading.Thread(target=agent)
    worker.start()
    try:
        with TestClient(create_app(store, clock=clock)) as client:
            pages = Pages(client, tokens).as_("reviewer")
            for _ in range(500):
                pending = store.list_approvals(ApprovalStatus.PENDING)
                if pending:
                    break
                threading.Event().wait(0.01)
            assert pending, "the run never asked for approval"
            assert pending[0].id in pages.text("/queue")
            r = pages.post(
                f"/approvals/{pending[0].id}", {"decision": "approve", "reason": "invoice ok"}
            )
            assert r.status_code == 303
    finally:
        worker.join(timeout=20)
    assert outcome["result"] == "paid 120.0"
    assert outcome["run"].status is RunStatus.RESOLVED


@pytest.mark.parametrize(
    "path",
    [
        "/runs?since=9999-12-31&until=9999-12-31",
        "/runs?since=0001-01-01",
        "/runs?after_at=2026-03-02T08:00:00&after_id=x",  # no time zone
        "/runs?after_at=9999-12-31T23:59:59-01:00&after_id=x",
        "/runs?after_at=nonsense&after_id=x",
        "/runs?agent=%00&state=%FF&mode=' OR 1=1 --",
        "/audit?before=99999999999999999999999",
        "/audit?before=-3",
        "/audit?before=abc",
        "/audit?agent=%00",
        "/agents/a%00b",
        "/runs/run_%00",
    ],
)
def test_odd_query_strings_never_break_a_page(pages: Pages, path: str) -> None:
    r = pages.as_("viewer").get(path)
    assert r.status_code in (200, 404), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")


def test_a_store_outage_is_an_html_page_not_json(
    pages: Pages, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: object, **__: object) -> None:
        raise StoreUnavailable("database is not reachable (connection refused)")

    pages.as_("viewer")
    monkeypatch.setattr(store, "list_runs", down)
    r = pages.get("/runs")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "The store cannot be reached" in r.text and "connection refused" in r.text
