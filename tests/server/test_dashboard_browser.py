"""The dashboard in a real browser: headless Chromium (Debian's package) through Playwright
against uvicorn on 127.0.0.1, with the demo data. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from tests.server.demo import Demo, make_tokens, seed_demo
from warden.server import create_app
from warden.store import SqlStore

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class Site:
    """The running dashboard."""

    url: str
    store: SqlStore
    demo: Demo
    tokens: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def site(store: SqlStore, make_governor) -> Iterator[Site]:
    demo = seed_demo(store, make_governor)
    tokens = make_tokens(store, demo.clock)
    port = _free_port()
    config = uvicorn.Config(
        create_app(store, clock=demo.clock), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Site(f"http://127.0.0.1:{port}", store, demo, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site: Site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=site.url)
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, site: Site, who: str, then: str = "/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(then)
    assert "/login" in page.url
    page.get_by_label("API token").fill(site.tokens[who])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_fleet_page_with_demo_data(page, site: Site) -> None:
    sign_in(page, site, "viewer")
    expect = playwright_api.expect
    expect(page.get_by_role("heading", name="Fleet")).to_be_visible()
    rows = page.locator("table.fleet tbody tr")
    expect(rows).to_have_count(3)
    refund = page.locator('tr[data-agent="refund-helper"]')
    expect(refund.locator(".badge.red").first).to_have_text("Red")
    expect(refund).to_contain_text("kill switch on")
    expect(refund).to_contain_text("dana@example.com")
    expect(page.locator('tr[data-agent="faq-bot"]')).to_contain_text("25 % of traffic")
    expect(page.locator('tr[data-agent="ticket-router"]')).to_contain_text("alice@example.com")
    # red first
    assert rows.first.get_attribute("data-agent") == "refund-helper"
    shot(page, "fleet")


def test_open_a_denied_run_and_see_the_reason(page, site: Site) -> None:
    sign_in(page, site, "viewer", then="/runs")
    expect = playwright_api.expect
    page.get_by_label("only runs with a denied call").check()
    page.get_by_label("Agent").select_option("ticket-router")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "denied=1" in page.url
    shot(page, "runs-denied-only")
    page.locator("table.runs tbody tr a").first.click()
    page.wait_for_load_state()
    assert re.search(r"/runs/run_\w+$", page.url)
    expect(page.locator(".verdict")).to_contain_text("Blocked")
    expect(page.locator(".denied-reason").first).to_contain_text("issue_refund")
    denied_step = page.locator(".step-denied").first
    expect(denied_step).to_contain_text("Denied")
    expect(denied_step.locator(".decision-reason")).to_contain_text("blocked")
    expect(page.locator("details.technical pre")).not_to_be_visible()  # collapsed
    shot(page, "run-denied")
    page.locator("details.technical summary").click()
    expect(page.locator("details.technical pre")).to_be_visible()


def test_flip_the_kill_switch_from_the_agent_page(page, site: Site) -> None:
    sign_in(page, site, "operator", then="/agents/ticket-router")
    expect = playwright_api.expect
    expect(page.locator("#kill-switch-state")).to_contain_text("off")
    shot(page, "agent-before-kill")
    page.get_by_label("Why? (recorded in the audit log)").fill(
        "Routing cards to the refunds queue since 14:00"
    )
    page.once("dialog", lambda d: d.dismiss())  # "No" in the confirmation: nothing happens
    page.get_by_role("button", name="Engage kill switch").click()
    assert site.store.get_kill_switch("ticket-router").engaged is False
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Engage kill switch").click()
    page.wait_for_url(re.compile(r"done=engaged"))
    expect(page.locator("#kill-switch-state")).to_contain_text("ON")
    expect(page.get_by_role("status")).to_contain_text("Kill switch engaged")
    state = site.store.get_kill_switch("ticket-router")
    assert state.engaged is True
    assert state.actor == "operator"
    assert state.reason == "Routing cards to the refunds queue since 14:00"
    assert [e.action for e in site.store.list_audit(agent="ticket-router")][-1] == (
        "kill_switch.engaged"
    )
    shot(page, "agent-after-kill")


def test_review_queue_and_audit_log_pages(page, site: Site) -> None:
    sign_in(page, site, "reviewer", then="/queue")
    expect = playwright_api.expect
    card = page.locator(f"#approval-{site.demo.approval}")
    expect(card).to_contain_text("issue_refund")
    expect(card).to_contain_text("amount > 100")
    shot(page, "queue")
    card.get_by_label("Your reason (recorded in the audit log)").fill(
        "Photo of the broken blender is attached to the ticket."
    )
    page.once("dialog", lambda d: d.accept())
    card.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r"done=approved"))
    decided = site.store.get_approval(site.demo.approval)
    assert decided is not None and decided.status.value == "approved"
    assert decided.decided_by == "reviewer"
    page.goto("/audit")
    expect(page.locator("#chain-status")).to_contain_text("Chain intact")
    expect(page.locator("table.audit tbody tr").first).to_contain_text("Approved a call")
    shot(page, "audit")
