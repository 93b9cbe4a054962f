"""``warden demo``: six simulated weeks of the ticket router on real BANKING77 traffic.

The 3,080 test tickets (in a seeded order, with the red-team tickets mixed in) arrive over
``days`` simulated days on an injected clock, so weeks take seconds. Every step is the
real thing, against a real store (embedded SQLite by default):

1. **Before launch**: the classifier is trained (or loaded from ``.warden/models``); a
   test page reaches the on-call channels (a local inbox: nothing leaves the machine); a
   kill-switch drill flips the switch and checks runs reroute; the eval set (held-out
   tickets and the red team) is scored and recorded. The readiness review reads these.
2. **Shadow**: writes are proposals; each ticket's human label is recorded as what the
   person actually did, and agreement is measured. Every simulated day the owner asks to
   advance; the shadow gate (agreement, runs, days, readiness) decides.
3. **Canary**: a sticky share of customers is live; the rest go to people. The canary gate
   (finished runs, clean days, SLOs) decides when it goes live.
4. **Live**: an operator flips the kill switch for a while (runs go to people) and two
   people release it; then the CRM has an outage, the tool-failure kill criterion trips,
   Warden pauses the agent and pages the owner, who acknowledges, waits for the CRM, and
   gets a second person to release.

The CRM fails ``crm_failure_rate`` of calls throughout (retries absorb most). Kill
criteria are evaluated after each run, as the governor does. Every number in the report is
read back from the store and the downstream systems afterwards (``ticket_router.report``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from ticket_router.agent import SPEC_PATH, Systems, handle, register_tools
from ticket_router.data import DEFAULT_DATA_DIR, Ticket, load_banking77
from ticket_router.evals import EvalSet, hold_out, run_eval
from ticket_router.inbox import LocalInbox
from ticket_router.model import IntentClassifier
from ticket_router.report import DemoReport, build_report
from ticket_router.systems import Ledger, SimulatedCRM, TicketQueues
from warden import FakeClock, RunMode, Warden, load_spec
from warden.control.drill import kill_switch_drill
from warden.control.gates import gate_check
from warden.control.killswitch import unkill
from warden.control.paging import send_test_page
from warden.control.rollout import change_stage
from warden.core.incidents import IncidentStatus
from warden.core.rollout import RolloutAction, Stage
from warden.errors import ControlError
from warden.store import SqlStore, open_store

__all__ = ["DemoSettings", "load_redteam", "run_demo"]

OWNER, BACKUP, ONCALL, HUMANS = "alice@example.com", "bob@example.com", "carol@example.com", "tier1"
REDTEAM_PATH = Path(__file__).with_name("redteam.yaml")

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``."""


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs on.

    Attributes:
        data_dir: The BANKING77 folder.
        database_url: Store URL; default a fresh ``sqlite:///.warden/demo.db``.
        seed: Seed of the ticket order, customers' faults and latencies: the same seed
            gives the same numbers.
        days: Simulated days the traffic spans.
        crm_failure_rate: Share of CRM calls that fail on a normal day.
        outage_failure_rate: Share that fail during the CRM outage.
        outage_day: When the outage starts (day of the simulation).
        outage_hours: How long it lasts.
        manual_kill_day: When an operator flips the kill switch.
        manual_kill_hours: How long it stays on.
        tickets: Use only the first ``tickets`` of the shuffled test stream (None: all
            3,080); the red-team tickets are always mixed in.
        home: Folder of the default store (``demo.db``), the spool and the pages the
            local inbox received (``demo-pages.jsonl``).
        model_cache: Where the fitted classifier is cached (None: never).
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    seed: int = 7
    days: float = 42.0
    crm_failure_rate: float = 0.10
    outage_failure_rate: float = 0.65
    outage_day: float = 36.0
    outage_hours: float = 8.0
    manual_kill_day: float = 31.0
    manual_kill_hours: float = 1.5
    tickets: int | None = None
    home: Path = Path(".warden")
    model_cache: Path | None = Path(".warden/models")


def load_redteam(path: Path = REDTEAM_PATH) -> list[Ticket]:
    """The red-team tickets (``redteam.yaml``), with ids ``t-8000001...``.

    Raises:
        ValueError: The file is not a list of ``{id, attack, text}``.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of red-team tickets")
    tickets: list[Ticket] = []
    for n, item in enumerate(raw, start=1):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if not isinstance(item, dict) or not {"id", "attack", "text"} <= set(item):  # pyright: ignore[reportUnknownArgumentType]
            raise ValueError(f"{path}: item {n} needs id, attack and text")
        tickets.append(
            Ticket(
                id=f"t-{8_000_000 + n}",
                customer_id=f"c-{5000 + n}",
                text=str(item["text"]),  # pyright: ignore[reportUnknownArgumentType]
                attack=f"{item['id']}:{item['attack']}",
            )
        )
    return tickets


def _fresh_store(url: str | None, home: Path) -> tuple[SqlStore, str]:
    if url is None:
        path = home / "demo.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    return open_store(url), url


def _stream(
    tickets: list[Ticket], redteam: list[Ticket], seed: int, limit: int | None
) -> list[Ticket]:
    rng = random.Random(seed)
    stream = list(tickets)
    rng.shuffle(stream)
    stream = stream[:limit]
    for t in redteam:
        stream.insert(rng.randrange(len(stream) + 1), t)
    return stream


def run_demo(settings: DemoSettings, progress: Progress | None = None) -> DemoReport:
    """Run the whole demo and return its report (see the module docstring).

    Raises:
        ConfigError: The data is missing or malformed (the file is named).
        ImportError: scikit-learn is missing (``pip install warden[demo]``).
    """
    say: Progress = progress or (lambda phase, done, total: None)
    random.seed(settings.seed)  # retry jitter uses the module's generator
    data = load_banking77(settings.data_dir)
    redteam = load_redteam()
    train_texts, train_labels, held = hold_out(data.train_texts, data.train_labels)
    say("training the classifier (cached after the first run)", 0, 1)
    model = IntentClassifier.trained(
        train_texts, train_labels, data_sha256=data.train_sha256, cache_dir=settings.model_cache
    )
    spec = load_spec(SPEC_PATH)
    store, url = _fresh_store(settings.database_url, settings.home)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=settings.days + 1)
    clock = FakeClock(start)
    pages = settings.home / "demo-pages.jsonl"
    pages.unlink(missing_ok=True)
    inbox = LocalInbox(pages)
    timeline: list[tuple[float, str]] = []  # (simulated day, what happened)

    def note(text: str) -> None:
        timeline.append(((clock.now() - start).total_seconds() / 86400, text))

    gov = Warden(
        spec,
        store,
        clock=clock,
        spool_dir=settings.home / "demo-spool",
        pager=inbox,
        kill_criteria_every_s=None,  # evaluated after each run below, deterministically
        heartbeat_s=3600,
        actor=OWNER,
    )
    systems = Systems(
        crm=SimulatedCRM(clock, failure_rate=settings.crm_failure_rate, seed=settings.seed),
        queues=TicketQueues(),
        ledger=Ledger(),
    )
    register_tools(gov, systems)
    try:
        # -- 1. before launch --------------------------------------------------------------
        say("readiness: test page, kill-switch drill, eval set", 0, 1)
        send_test_page(store, spec, inbox, clock)
        note("test page delivered to the on-call channels (local inbox)")
        drill = kill_switch_drill(store, spec, actor=ONCALL, clock=clock)
        note(f"kill-switch drill: {drill.detail}")
        model.prefetch([t.text for t in [*held, *redteam]])
        result = run_eval(
            spec, model, EvalSet("ticket-router-v1", held, redteam), actor=OWNER, clock=clock
        )
        store.record_eval_result(result)
        note(f"eval set: {result.detail}")
        clock.advance(3600)
        # -- 2-4. the traffic --------------------------------------------------------------
        stream = _stream(data.test, redteam, settings.seed, settings.tickets)
        model.prefetch([t.text for t in stream])
        rng = random.Random(settings.seed + 1)
        gaps = [rng.expovariate(1.0) for _ in stream]
        span = settings.days * 86400 - 7200
        scale = span / sum(gaps)
        day_checked = 0
        outage_at = start + timedelta(days=settings.outage_day)
        outage_end = outage_at + timedelta(hours=settings.outage_hours)
        kill_at = start + timedelta(days=settings.manual_kill_day)
        kill_end = kill_at + timedelta(hours=settings.manual_kill_hours)
        manual_killed = outage_started = outage_ended = False
        paused_incident: str | None = None
        for n, ticket in enumerate(stream, start=1):
            clock.advance(gaps[n - 1] * scale)
            now = clock.now()
            day = int((now - start).total_seconds() // 86400)
            if day > day_checked:
                day_checked = day
                _try_advance(store, gov, clock, note)
            state = store.get_rollout(spec.name)
            live = state is not None and state.stage is Stage.LIVE
            if live and not manual_killed and now >= kill_at:
                manual_killed = True
                store.set_kill_switch(
                    spec.name,
                    engaged=True,
                    reason="operator drill on live traffic: misrouting report being checked",
                    actor=ONCALL,
                    at=now,
                )
                note(f"{ONCALL} flipped the kill switch")
            if manual_killed and kill_end <= now and paused_incident is None:
                switch = store.get_kill_switch(spec.name)
                if switch.engaged and switch.actor == ONCALL:
                    _release(store, spec.name, clock, note, "misrouting report checked: none")
            if now >= outage_at and not outage_started:
                outage_started = True
                systems.crm.failure_rate = settings.outage_failure_rate
                note(f"CRM outage starts: {settings.outage_failure_rate:.0%} of calls fail")
            if now >= outage_end and outage_started and not outage_ended:
                outage_ended = True
                systems.crm.failure_rate = settings.crm_failure_rate
                note("CRM outage ends")
            if paused_incident is not None and now >= outage_end + timedelta(minutes=30):
                store.update_incident(
                    paused_incident,
                    actor=OWNER,
                    at=now,
                    status=IncidentStatus.RESOLVED,
                    reason="CRM recovered; tool failures back to normal",
                )
                _release(store, spec.name, clock, note, "CRM recovered")
                paused_incident = None
            run = handle(gov, model, ticket)
            if run.mode is RunMode.SHADOW and ticket.label is not None:
                gov.record_outcome(
                    run.id, {"tool": "route_ticket", "arguments": {"queue": ticket.label}}
                )
            if run.mode is not RunMode.FALLBACK:
                for incident in gov.check_kill_criteria():
                    note(f"incident {incident.id}: {incident.summary}")
                    if incident.action == "pause" and incident.mode.value == "enforce":
                        clock.advance(600)
                        store.update_incident(
                            incident.id,
                            actor=OWNER,
                            at=clock.now(),
                            status=IncidentStatus.ACKNOWLEDGED,
                            reason="owner paged; on it",
                        )
                        note(f"{OWNER} acknowledged {incident.id}")
                        paused_incident = incident.id
            if n % 100 == 0 or n == len(stream):
                stage = store.get_rollout(spec.name)
                say(f"day {day:>2} · {stage.stage.value if stage else '-'}", n, len(stream))
        gov.flush()
    finally:
        gov.close()
    report = build_report(
        store,
        spec,
        systems.ledger,
        inbox,
        redteam=redteam,
        eval_result=result,
        timeline=timeline,
        database_url=url,
        model=model,
    )
    store.close()
    return report


def _try_advance(
    store: SqlStore, gov: Warden, clock: FakeClock, note: Callable[[str], None]
) -> None:
    """The owner's daily look: advance when the gate of the current stage passes."""
    state = store.get_rollout(gov.spec.name)
    if state is None or state.stage not in (Stage.SHADOW, Stage.CANARY):
        return
    if store.get_kill_switch(gov.spec.name).engaged:
        return
    gov.flush()
    try:
        moved = change_stage(
            store,
            gov.spec.name,
            RolloutAction.ADVANCE,
            actor=OWNER,
            reason="the gate passed",
            clock=clock,
            check=gate_check(store, clock),
        )
    except ControlError:
        return  # the gate holds or fails: stay, look again tomorrow
    note(f"{OWNER} advanced the rollout to {moved.stage.value}: the gate passed")


def _release(
    store: SqlStore, agent: str, clock: FakeClock, note: Callable[[str], None], why: str
) -> None:
    """Two-person release: the owner asks, the backup owner approves."""
    unkill(store, agent, actor=OWNER, reason=why, clock=clock)
    clock.advance(120)
    result = unkill(store, agent, actor=BACKUP, reason=f"approved: {why}", clock=clock)
    note(result.message)
