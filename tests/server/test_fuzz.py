"""Fuzz the API from its own OpenAPI schema (schemathesis).

Passes over every operation in ``/openapi.json`` (schemathesis, in process against the
ASGI app, on a store seeded with runs, approvals, an incident, a pending spec change, an
agent in shadow and a spare token, so that generated ids also hit real objects):

- **admin**: schema-valid and schema-invalid requests with an admin token. No response is
  a 5xx (``not_a_server_error``); response bodies and content types conform to the schema;
  every error is the JSON ``{"error": {"code", "message"}}``; an admin is never refused
  (401/403) but by the signed PagerDuty webhook (``SIGNED_NOT_TOKEN``); at the end the audit chain is intact. Off: ``status_code_conformance`` (the
  schema lists no 400/401/403/404/409), ``positive_data_acceptance`` (unknown ids, cursors
  not from this API, runs of another agent are refused by rules a schema cannot say) and
  ``negative_data_rejection`` (pydantic's lax mode reads ``since=-206`` as a Unix time and
  ``"yes"`` as true: FastAPI behaviour, not a bug).
- **anonymous**: the same without a token: always a 4xx, never a 2xx or 5xx; a request
  whose body parses is exactly 401.
- **event batches**: schema-valid ``POST /api/agents/{agent}/events`` batches rewritten to
  pass the ownership check, so that they reach ``store.apply``; every run stored is then
  read back as a run story.

``/v1/traces`` takes raw bodies the schema cannot describe: ``routers/test_otlp_fuzz.py``.
Bugs found by fuzzing are fixed, each kept as one exact request: ``test_fuzz_known_bugs.py``.
Examples are derandomized and bounded (``fuzzing.py``: ``WARDEN_FUZZ_EXAMPLES``,
``WARDEN_FUZZ_RANDOM``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from pydantic import TypeAdapter, ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import ON_POSTGRES, make_spec
from tests.server.conftest import ROUTER_TOOLS, Api
from tests.server.fuzzing import AGENT, EXAMPLES, fuzz_settings
from warden.control.scope import apply_spec
from warden.core.clock import SystemClock
from warden.core.incidents import Incident
from warden.core.runs import ApprovalRequest, RunFilter
from warden.core.spec import AgentSpec
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.store import SqlStore

CANARY = "canary-agent"
"""An agent with a rollout plan (in shadow), so the rollout operations reach their gates."""

INT_MAX = 2**31 - 1 if ON_POSTGRES else 2**63 - 1
"""Largest integer the store's integer columns take (PostgreSQL ``integer``, SQLite 64-bit)."""
AUDIT_SUBJECT_MAX = 128
"""``audit_log.subject`` is ``varchar(128)``: a refused request writes ``"METHOD /path"``."""


# -- the seeded store ------------------------------------------------------------------------


@dataclass
class Fuzz:
    """What the passes need: the schema over the test app, real ids, and a tally."""

    api: Api
    schema: Any
    ids: dict[str, list[str]]
    statuses: defaultdict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter[int])
    )
    tolerated: Counter[str] = field(default_factory=Counter[str])

    def operations(self) -> list[Any]:
        """Every operation in the schema, in schema order."""
        return [result.ok() for result in self.schema.get_all_operations()]

    def strategy(self, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
        """Cases for ``operation``: free, and (positive mode) with path ids of real objects."""
        free = operation.as_strategy(generation_mode=mode)
        names = [p.name for p in operation.path_parameters]
        if mode is not GenerationMode.POSITIVE or not names:
            return free
        real: list[st.SearchStrategy[Any]] = [free]
        for i in range(3):  # a few combinations of real ids, one per object kind
            fixed = {n: self.ids[n][i % len(self.ids[n])] for n in names if n in self.ids}
            if fixed:
                real.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        keys = st.none() | st.sampled_from(self.ids["key"])
        return st.tuples(st.one_of(real), keys).map(lambda pair: _plant_key(*pair))


def _plant_key(case: Any, key: str | None) -> Any:
    """Outcome bodies often name a real run id or routing key (``OutcomeBody.key``)."""
    body = case.body
    if key is not None and isinstance(body, dict) and "key" in body:
        body["key"] = key
    return case


@pytest.fixture
def fuzz(api: Api, seeded: Callable[..., list[str]], store: SqlStore) -> Fuzz:
    """The schema of the test app, over a store with one of each object the API names."""
    run_ids = seeded(resolved=3)
    now = SystemClock().now()
    for i, agent in enumerate([AGENT, AGENT, "other-agent"]):
        store.create_approval(
            ApprovalRequest(
                id=f"apr_fuzz_{i}",
                run_id=run_ids[0],
                agent=agent,
                seq=1,
                tool="route_ticket",
                args_hash="h",
                rule="access",
                reason="fuzz",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    incident, _ = store.open_incident(
        Incident(
            id="inc_fuzz",
            agent=AGENT,
            criterion="error_rate>0.1/3600s",
            metric="error_rate",
            threshold=0.1,
            value=0.3,
            samples=60,
            window_s=3600,
            action="page",
            mode="advisory",
            applied="paged",
            spec_hash="h",
            dedup_key=f"{AGENT}:error_rate:1",
            opened_at=now,
            summary="fuzz",
        )
    )
    clock = SystemClock()
    apply_spec(store, make_spec(ROUTER_TOOLS), actor="alice@example.com", clock=clock)
    wider = {**ROUTER_TOOLS, "lookup_order": {"access": "read"}}
    change = apply_spec(store, make_spec(wider), actor="alice@example.com", clock=clock)
    assert change.status.value == "pending"
    canary = make_spec(ROUTER_TOOLS, rollout={"shadow": {"min_runs": 5}}).model_dump(
        mode="json", by_alias=True
    )
    canary["metadata"]["name"] = CANARY
    apply_spec(store, AgentSpec.model_validate(canary), actor="alice@example.com", clock=clock)
    spare_id, spare_secret = new_token()
    store.create_token(
        ApiToken(
            id=spare_id,
            name="spare",
            role=Role.VIEWER,
            token_hash=hash_token(spare_secret),
            created_at=now,
            created_by="fuzz",
        )
    )
    ids = {
        "agent": [AGENT, CANARY, "other-agent"],
        "run_id": run_ids,
        "approval_id": ["apr_fuzz_0", "apr_fuzz_1", "apr_fuzz_2"],
        "incident_id": [incident.id],
        "handoff_id": [h.id for h in store.list_handoffs()],
        "ref": [change.id, change.to_hash[:12]],
        "token_id": [spare_id],
        "key": [*run_ids, "c0", "c1"],
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    return Fuzz(api=api, schema=schema, ids=ids)


# -- known bugs: the classes of input a fuzz pass may see a 5xx for ---------------------------


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():  # pyright: ignore[reportUnknownVariableType]
            yield k
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:  # pyright: ignore[reportUnknownVariableType]
            yield from _leaves(v)
    else:
        yield value


_DATETIME = TypeAdapter(datetime)


def _unstorable_datetime(text: str) -> bool:
    """A string the API reads as a datetime the store refuses: naive, or not in years 1-9999 UTC."""
    try:
        value = _DATETIME.validate_strings(text)
    except ValidationError:
        return False
    if value.tzinfo is None:
        return True
    try:
        value.astimezone(UTC)
    except OverflowError:
        return True
    return False


def known_bug(case: Any) -> str | None:
    """The ``KNOWN_BUGS`` class (``test_fuzz_known_bugs.py``) ``case`` belongs to, or None.
    Every class found by fuzzing is fixed, so none is tolerated: a 5xx for any input fails
    the fuzz pass."""
    return None


# -- the checks ------------------------------------------------------------------------------


def _send(fuzz: Fuzz, case: Any, headers: dict[str, str]) -> Any | None:
    """Send ``case``; None when it hit a known bug (a 5xx tolerated), else the response.

    Raises:
        AssertionError: A 5xx (or an exception out of the app) for any other input.
    """
    label = case.operation.label
    try:
        response = case.call(headers=headers)
    except Exception as exc:  # the ASGI transport re-raises what the app raised
        bug = known_bug(case)
        if bug is not None:
            fuzz.tolerated[bug] += 1
            return None
        raise AssertionError(
            f"{label} raised {exc!r} (a 500)\n{case.as_curl_command(headers=headers)}"
        ) from exc
    fuzz.statuses[label][response.status_code] += 1
    if response.status_code >= 500 and (bug := known_bug(case)) is not None:
        fuzz.tolerated[bug] += 1
        return None
    return response


def _error_body(case: Any, response: Any, headers: dict[str, str]) -> None:
    """A 4xx/5xx is ``{"error": {"code": str, "message": str}}`` (``server/error_responses.py``)."""
    if response.status_code < 400:
        return
    try:
        err = response.json()["error"]
        ok = isinstance(err["code"], str) and isinstance(err["message"], str)
    except (ValueError, KeyError, TypeError):
        ok = False
    assert ok, (
        f"{case.operation.label}: {response.status_code} without the JSON error body: "
        f"{response.text[:300]!r}\n{case.as_curl_command(headers=headers)}"
    )


SIGNED_NOT_TOKEN = {"POST /api/integrations/pagerduty"}
"""Operations authenticated by a request signature, not an API token (401 for anyone
without it, an admin too)."""


def _admin_check(fuzz: Fuzz, headers: dict[str, str]) -> Callable[[Any], None]:
    def check(case: Any) -> None:
        response = _send(fuzz, case, headers)
        if response is None:
            return
        case.validate_response(
            response,
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            headers=headers,
        )
        _error_body(case, response, headers)
        if case.operation.label in SIGNED_NOT_TOKEN:
            return  # an admin token is not its credential: routers/test_pagerduty.py
        assert response.status_code not in (401, 403), (
            f"{case.operation.label}: an admin was refused ({response.status_code}): "
            f"{response.text[:300]}\n{case.as_curl_command(headers=headers)}"
        )

    return check


def _anonymous_check(fuzz: Fuzz, mode: GenerationMode) -> Callable[[Any], None]:
    def check(case: Any) -> None:
        response = _send(fuzz, case, {})
        if response is None:
            return
        status = response.status_code
        curl = case.as_curl_command()
        assert 400 <= status < 500, f"{case.operation.label}: {status} without a token\n{curl}"
        _error_body(case, response, {})
        # FastAPI parses a JSON body before it resolves dependencies, so an unreadable body
        # is 422 before the token is looked at; a path param with "/" routes nowhere (404).
        routable = all("/" not in str(v) for v in (case.path_parameters or {}).values())
        if mode is GenerationMode.POSITIVE and routable:
            assert status == 401, (
                f"{case.operation.label}: {status}, not 401, without a token\n{curl}"
            )

    return check


def _run_pass(
    fuzz: Fuzz,
    make_check: Callable[[GenerationMode], Callable[[Any], None]],
    examples: dict[GenerationMode, int],
) -> list[str]:
    """Fuzz every operation in every mode; the failures, one paragraph each."""
    failures: list[str] = []
    for operation in fuzz.operations():
        for mode, n in examples.items():
            check = make_check(mode)

            @fuzz_settings(n)
            @given(case=fuzz.strategy(operation, mode))
            def run(case: Any) -> None:
                check(case)  # noqa: B023 - called before the loop moves on

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, or only string path params).
                if mode is GenerationMode.POSITIVE:
                    failures.append(f"{operation.label} ({mode.value}): no case generated")
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    return failures


def _tally(fuzz: Fuzz) -> str:
    lines = [f"{label}: {dict(sorted(c.items()))}" for label, c in fuzz.statuses.items()]
    lines.append(f"tolerated known-bug 5xx: {dict(fuzz.tolerated)}")
    return "\n".join(lines)


# -- the passes ------------------------------------------------------------------------------


def test_admin_fuzz_every_operation(fuzz: Fuzz) -> None:
    headers = fuzz.api.as_("admin")
    failures = _run_pass(
        fuzz,
        lambda mode: _admin_check(fuzz, headers),
        {GenerationMode.POSITIVE: EXAMPLES, GenerationMode.NEGATIVE: max(5, EXAMPLES // 2)},
    )
    tally = _tally(fuzz)
    print(tally)  # pytest -s: what the fuzz reached, per operation and status
    assert not failures, "\n\n".join(failures) + "\n\n" + tally
    # Seeding worked: every operation with an id in its path found a real object at least once.
    for operation in fuzz.operations():
        if operation.path_parameters:
            seen = fuzz.statuses[operation.label]
            assert set(seen) - {404, 422}, f"{operation.label} never hit a real object\n{tally}"
    # The admin is still an admin (the fuzz may revoke the spare token, never this one), and
    # everything the fuzz did is in an intact audit chain.
    assert fuzz.api.get("/api/tokens", "admin").status_code == 200
    chain = fuzz.api.get("/api/audit/verify", "admin").json()
    assert chain["intact"] is True, chain


def test_anonymous_fuzz_is_always_refused(fuzz: Fuzz) -> None:
    n = max(5, EXAMPLES // 2)
    failures = _run_pass(
        fuzz,
        lambda mode: _anonymous_check(fuzz, mode),
        {GenerationMode.POSITIVE: n, GenerationMode.NEGATIVE: n},
    )
    assert not failures, "\n\n".join(failures) + "\n\n" + _tally(fuzz)
    assert all(code != 200 for c in fuzz.statuses.values() for code in c)


def _own_batch(body: Any, run_ids: list[str], pick: int) -> Any:
    """Rewrite a generated event batch so that it passes the ownership check for ``AGENT``:
    runs are the agent's, and every record names a run of the batch or a seeded one."""
    if not isinstance(body, list):
        return body
    items: list[Any] = body  # pyright: ignore[reportUnknownVariableType]
    mine = [
        e["run"]["id"]
        for e in items
        if isinstance(e, dict) and isinstance(e.get("run"), dict) and "id" in e["run"]
    ]
    targets = [*mine, *run_ids] or ["run_none"]
    for i, e in enumerate(items):
        if not isinstance(e, dict):
            continue
        target = targets[(pick + i) % len(targets)]
        e.setdefault("type", _event_type(e))  # see test_fuzz_known_bugs.py
        if isinstance(e.get("run"), dict):
            e["run"]["agent"] = AGENT
        for inner in ("call", "handoff", "record"):
            if isinstance(e.get(inner), dict):
                e[inner]["run_id"] = target
        if isinstance(e.get("run_ids"), list):
            e["run_ids"] = [target for _ in e["run_ids"]]
    return body


def _event_type(event: dict[str, Any]) -> str:
    if "run" in event:
        return "run"
    if "run_ids" in event:
        return "heartbeat"
    if "handoff" in event:
        return "handoff"
    if "record" in event:
        return "idempotency"
    call = event.get("call")
    return "model_call" if isinstance(call, dict) and "model" in call else "tool_call"


def test_event_batches_of_a_real_agent_are_stored_and_read_back(fuzz: Fuzz) -> None:
    """Schema-valid batches that pass the ownership check reach ``store.apply``; every run
    stored reads back through ``GET /api/runs/{id}`` (the run story) without a 5xx."""
    headers = fuzz.api.as_("admin")
    operation = fuzz.schema["/api/agents/{agent}/events"]["POST"]
    stored: set[str] = set()
    cases = st.tuples(
        operation.as_strategy(path_parameters={"agent": AGENT}), st.integers(0, 50)
    ).map(lambda pair: (pair[0], _own_batch(pair[0].body, fuzz.ids["run_id"], pair[1])))

    @fuzz_settings(EXAMPLES * 3)
    @given(generated=cases)
    def run(generated: tuple[Any, Any]) -> None:
        case, _ = generated
        response = _send(fuzz, case, headers)
        if response is None:
            return
        _error_body(case, response, headers)
        if response.status_code == 200:
            accepted = response.json()
            assert accepted["accepted"] == len(case.body)
            stored.update(accepted["runs"])

    run()
    print(_tally(fuzz))
    assert fuzz.statuses[operation.label][200] > EXAMPLES  # most batches got through
    for run_id in sorted(stored):
        story = fuzz.api.client.get(f"/api/runs/{quote(run_id, safe='')}", headers=headers)
        assert story.status_code in (200, 404), (run_id, story.status_code, story.text[:300])


# -- issue "Authority": an agent token fuzzed over the whole schema ---------------------------

AGENT_WRITES = {"POST /api/agents/{agent}/events", "POST /api/rpc/{method}", "POST /v1/traces"}
"""The only operations an agent token may succeed at: its runs' records and the runtime port."""


def _governance(store: SqlStore) -> dict[str, Any]:
    """Everything outside an agent's own runs that a token could change."""
    return {
        "rollouts": sorted((r.agent, r.stage.value, r.version) for r in store.list_rollouts()),
        "kill": sorted(
            (a, store.get_kill_switch(a).engaged) for a in (AGENT, CANARY, "other-agent")
        ),
        "approvals": sorted(
            (a.id, a.status.value, a.decided_by or "")
            for a in store.list_approvals()
            if a.status.value not in ("expired", "cancelled")  # the runtime may close its own
        ),
        "incidents": sorted((i.id, i.status.value) for i in store.list_incidents()),
        "changes": sorted((c.id, c.status.value) for c in store.list_spec_changes()),
        "tokens": sorted((t.id, t.revoked_at is None) for t in store.list_tokens()),
        "other runs": sorted(
            (r.id, r.status.value, r.steps)
            for r in store.list_runs(RunFilter(agent="other-agent", limit=1000))
        ),
    }


def test_an_agent_token_changes_nothing_outside_its_own_runs(fuzz: Fuzz, store) -> None:
    headers = fuzz.api.as_("agent")
    before = _governance(store)

    def make_check(mode: GenerationMode) -> Callable[[Any], None]:
        def check(case: Any) -> None:
            response = _send(fuzz, case, headers)
            if response is None:
                return
            assert response.status_code < 500, case.as_curl_command(headers=headers)
            if case.operation.label not in AGENT_WRITES and case.method.upper() != "GET":
                assert response.status_code in (401, 403, 404, 405, 422), (
                    f"{case.operation.label}: {response.status_code} for an agent token\n"
                    f"{case.as_curl_command(headers=headers)}"
                )
            if case.method.upper() == "GET" and case.operation.path != "/healthz":
                assert response.status_code != 200 or case.operation.path in ("/openapi.json",), (
                    f"{case.operation.label}: an agent token read it"
                )

        return check

    n = max(5, EXAMPLES // 2)
    failures = _run_pass(fuzz, make_check, {GenerationMode.POSITIVE: n})
    assert not failures, "\n\n".join(failures) + "\n\n" + _tally(fuzz)
    assert _governance(store) == before
    for entry in store.list_audit():
        if entry.actor == "agent":
            assert entry.action == "api.denied", entry
