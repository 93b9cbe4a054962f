"""Fuzz the API from its own OpenAPI schema, and ``/v1/traces`` with raw bodies.

Passes over every operation in ``/openapi.json`` (schemathesis, in process against the
ASGI app, on a store seeded with runs, approvals, an incident, a pending spec change, an
agent in shadow and a spare token, so that generated ids also hit real objects):

- **admin**: schema-valid and schema-invalid requests with an admin token. No response is
  a 5xx (``not_a_server_error``); response bodies and content types conform to the schema;
  every error is the JSON ``{"error": {"code", "message"}}``; an admin is never refused
  (401/403); at the end the audit chain is intact. Off: ``status_code_conformance`` (the
  schema lists no 400/401/403/404/409), ``positive_data_acceptance`` (unknown ids, cursors
  not from this API, runs of another agent are refused by rules a schema cannot say) and
  ``negative_data_rejection`` (pydantic's lax mode reads ``since=-206`` as a Unix time and
  ``"yes"`` as true: FastAPI behaviour, not a bug).
- **anonymous**: the same without a token: always a 4xx, never a 2xx or 5xx; a request
  whose body parses is exactly 401.
- **event batches**: schema-valid ``POST /api/agents/{agent}/events`` batches rewritten to
  pass the ownership check, so that they reach ``store.apply``; every run stored is then
  read back as a run story.
- **OTLP**: ``/v1/traces`` takes raw bodies the schema cannot describe, so Hypothesis
  writes them: arbitrary bytes and JSON documents under any content type, mutations of a
  real OTel SDK export, and structured ``ExportTraceServiceRequest`` messages with random
  GenAI spans, as protobuf and as JSON. Never a 5xx; a 200 is an
  ``ExportTraceServiceResponse``.

Bugs found by fuzzing (``KNOWN_BUGS``, one exact request each: naive and out-of-range
datetimes, 64-bit overflows, NaN, non-object or deeply nested OTLP JSON, non-numeric token
counts, the events' discriminator) are fixed; each request stays as a regression test, and
no input class is tolerated by the fuzz passes any more.

Examples are derandomized (the same inputs every run) and bounded: ``WARDEN_FUZZ_EXAMPLES``
(default 20 per operation and mode) scales every pass; ``WARDEN_FUZZ_RANDOM=1`` draws new
inputs each run. A long local hunt: ``WARDEN_FUZZ_EXAMPLES=300 WARDEN_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
import sqlalchemy as sa
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from pydantic import TypeAdapter, ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import ON_POSTGRES, make_spec
from tests.server.conftest import ROUTER_TOOLS, Api
from tests.telemetry.test_otlp_ingest import agent_spans
from warden.control.scope import apply_spec
from warden.core.clock import SystemClock
from warden.core.incidents import Incident
from warden.core.runs import ApprovalRequest
from warden.core.spec import AgentSpec
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.store import SqlStore
from warden.store import tables as t

EXAMPLES = int(os.environ.get("WARDEN_FUZZ_EXAMPLES", "20"))
"""Examples per operation and generation mode (admin pass); the other passes scale with it."""
RANDOM = os.environ.get("WARDEN_FUZZ_RANDOM", "") not in ("", "0")
"""``WARDEN_FUZZ_RANDOM=1``: new random inputs each run (default: the same inputs every run)."""

AGENT = "test-agent"
CANARY = "canary-agent"
"""An agent with a rollout plan (in shadow), so the rollout operations reach their gates."""

INT_MAX = 2**31 - 1 if ON_POSTGRES else 2**63 - 1
"""Largest integer the store's integer columns take (PostgreSQL ``integer``, SQLite 64-bit)."""
STR_MAX = 64
"""PostgreSQL enforces ``varchar(n)``: ids and names are ``varchar(64)`` (SQLite ignores n)."""
AUDIT_SUBJECT_MAX = 128
"""``audit_log.subject`` is ``varchar(128)``: a refused request writes ``"METHOD /path"``."""

OTLP_PROTOBUF = "application/x-protobuf"
OTLP_JSON = "application/json"


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max(1, max_examples),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


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
    """The ``KNOWN_BUGS`` class ``case`` belongs to, or None. Every class found by fuzzing is
    fixed, so none is tolerated: a 5xx for any input fails the fuzz pass."""
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
    """A 4xx/5xx is ``{"error": {"code": str, "message": str}}`` (``server/errors.py``)."""
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

            @_settings(n)
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
        e.setdefault("type", _event_type(e))  # see test_openapi_requires_the_event_type
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

    @_settings(EXAMPLES * 3)
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


# -- /v1/traces: raw bodies ------------------------------------------------------------------


def _post_traces(api: Api, body: bytes, content_type: str | None) -> Any:
    headers = {**api.as_("reviewer")}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.post("/v1/traces", content=body, headers=headers)


def _check_traces_response(response: Any, content_type: str | None, spans: int | None) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:300]}"
    if status != 200:
        assert 400 <= status < 500, status
        assert isinstance(response.json()["error"]["code"], str)
        return
    parsed = ExportTraceServiceResponse()
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == OTLP_JSON:
        assert response.headers["content-type"].startswith(OTLP_JSON)
        json_format.Parse(response.text or "{}", parsed)
    else:
        assert response.headers["content-type"].startswith(OTLP_PROTOBUF)
        parsed.ParseFromString(response.content)
    if spans is not None:
        assert 0 <= parsed.partial_success.rejected_spans <= spans


CONTENT_TYPES = st.sampled_from(
    [
        OTLP_PROTOBUF,
        OTLP_JSON,
        "application/json; charset=utf-8",
        "APPLICATION/X-PROTOBUF",
        "text/plain",
        "",
        None,
    ]
)


@pytest.fixture
def valid_export() -> bytes:
    """One real export from the OpenTelemetry SDK (6 spans, GenAI conventions)."""
    return encode_spans(agent_spans()).SerializeToString()


def _json_not_an_object(body: bytes, content_type: str | None) -> bool:
    """The ``otlp-json-not-an-object`` known bug: a JSON body that parses to a non-object."""
    if not (content_type or "").lower().startswith(OTLP_JSON):
        return False
    try:
        return not isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return False


_json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["resourceSpans", "scopeSpans", "spans", "traceId", "x"]) | st.text(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())


def test_traces_arbitrary_bytes_never_5xx(api: Api) -> None:
    @_settings(EXAMPLES * 4)
    @given(body=st.binary(max_size=4096) | _json_documents, content_type=CONTENT_TYPES)
    def run(body: bytes, content_type: str | None) -> None:
        response = _post_traces(api, body, content_type)
        _check_traces_response(response, content_type, None)

    run()


def test_traces_mutated_sdk_exports_never_5xx(api: Api, valid_export: bytes) -> None:
    """Flip, cut and splice bytes of a real export: the protobuf parser sees almost-valid data."""

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(valid_export)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            if op == "flip":
                data[i] = draw(st.integers(0, 255))
            elif op == "cut":
                del data[i : i + draw(st.integers(1, 16))]
            elif op == "insert":
                data[i:i] = draw(st.binary(min_size=1, max_size=16))
            else:
                del data[i:]
            if not data:
                break
        return bytes(data)

    @_settings(EXAMPLES * 3)
    @given(body=mutated())
    def run(body: bytes) -> None:
        response = _post_traces(api, body, OTLP_PROTOBUF)
        _check_traces_response(response, OTLP_PROTOBUF, None)

    run()


# Structured OTLP requests. Mostly well-formed values, plus what once gave a 500 (see
# KNOWN_BUGS): token counts that are strings, NaN or beyond an ``integer`` column, NUL
# characters, strings longer than the varchar(64) and varchar(128) columns.
_GENAI_KEYS = [
    "gen_ai.operation.name",
    "gen_ai.agent.name",
    "gen_ai.conversation.id",
    "gen_ai.tool.name",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.input.messages",
]
_TOKEN_KEYS = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
]
_OPERATIONS = ["invoke_agent", "execute_tool", "chat", "text_completion", "generate_content"]
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40) | st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), min_size=STR_MAX - 2, max_size=140
)
_json_text = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
).map(json.dumps)


def _any_value(draw: st.DrawFn, key: str, depth: int = 0) -> AnyValue:
    if key in _TOKEN_KEYS and draw(st.integers(0, 3)):  # 3 in 4: a plausible count
        kind = draw(st.sampled_from(["int", "double", "bool", "none"]))
        if kind == "int":
            return AnyValue(int_value=draw(st.integers(0, 10**7)))
        if kind == "double":
            return AnyValue(double_value=draw(st.floats(0, 1e7)))
        if kind == "bool":
            return AnyValue(bool_value=draw(st.booleans()))
        return AnyValue()
    if key == "gen_ai.operation.name":
        return AnyValue(string_value=draw(st.sampled_from(_OPERATIONS) | _text))
    kind = draw(st.sampled_from(["str", "json", "int", "double", "bool", "bytes", "array", "kv"]))
    if kind == "str":
        return AnyValue(string_value=draw(_text))
    if kind == "json":
        return AnyValue(string_value=draw(_json_text))
    if kind == "int":
        return AnyValue(int_value=draw(st.integers(-(2**63), 2**63 - 1)))
    if kind == "double":
        return AnyValue(double_value=draw(st.floats()))
    if kind == "bool":
        return AnyValue(bool_value=draw(st.booleans()))
    if kind == "bytes":
        return AnyValue(bytes_value=draw(st.binary(max_size=16)))
    if depth >= 2:
        return AnyValue()
    if kind == "array":
        value = AnyValue()
        for _ in range(draw(st.integers(0, 3))):
            value.array_value.values.append(_any_value(draw, "", depth + 1))
        return value
    value = AnyValue()
    for _ in range(draw(st.integers(0, 3))):
        value.kvlist_value.values.append(
            KeyValue(key=draw(_text), value=_any_value(draw, "", depth + 1))
        )
    return value


def _attributes(draw: st.DrawFn, agent_names: list[str]) -> list[KeyValue]:
    attrs: list[KeyValue] = []
    for key in draw(st.lists(st.sampled_from(_GENAI_KEYS + _TOKEN_KEYS), max_size=8)):
        if key == "gen_ai.agent.name" and draw(st.booleans()):
            attrs.append(
                KeyValue(key=key, value=AnyValue(string_value=draw(st.sampled_from(agent_names))))
            )
        else:
            attrs.append(KeyValue(key=key, value=_any_value(draw, key)))
    return attrs


@st.composite
def export_requests(draw: st.DrawFn) -> tuple[ExportTraceServiceRequest, int]:
    """A random export: a few traces of GenAI-ish spans, some malformed; and its span count."""
    agent_names = [AGENT, "other-agent", draw(_text)]
    trace_ids = [draw(st.binary(min_size=16, max_size=16)) for _ in range(3)]
    span_ids = st.binary(min_size=8, max_size=8) | st.binary(max_size=10)
    request = ExportTraceServiceRequest()
    total = 0
    for _ in range(draw(st.integers(1, 2))):
        rs = ResourceSpans(resource=Resource(attributes=_attributes(draw, agent_names)))
        spans: list[Span] = []
        for _ in range(draw(st.integers(0, 12))):
            start = draw(st.integers(0, 2**64 - 2) | st.integers(1.7e18, 1.8e18))
            end = draw(st.integers(0, 2**64 - 1) | st.integers(start, start + 10**10))
            op = draw(st.sampled_from([*_OPERATIONS, "GET", ""]))
            span = Span(
                trace_id=draw(st.sampled_from(trace_ids) | st.binary(max_size=17)),
                span_id=draw(span_ids),
                name=f"{op} {draw(_text)}",
                start_time_unix_nano=start,
                end_time_unix_nano=min(end, 2**64 - 1),
                attributes=_attributes(draw, agent_names),
                status=Status(code=draw(st.integers(0, 2)), message=draw(_text)),
            )
            spans.append(span)
        total += len(spans)
        rs.scope_spans.append(ScopeSpans(spans=spans))
        request.resource_spans.append(rs)
    return request, total


def test_traces_structured_exports_never_5xx(api: Api, store: SqlStore) -> None:
    apply_spec(store, make_spec(ROUTER_TOOLS), actor="alice@example.com", clock=SystemClock())

    @_settings(EXAMPLES * 4)
    @given(generated=export_requests(), as_json=st.booleans())
    def run(generated: tuple[ExportTraceServiceRequest, int], as_json: bool) -> None:
        request, spans = generated
        if as_json:
            body, content_type = json_format.MessageToJson(request).encode(), OTLP_JSON
        else:
            body, content_type = request.SerializeToString(), OTLP_PROTOBUF
        _check_traces_response(_post_traces(api, body, content_type), content_type, spans)

    run()
    # The generator does reach the store: some traces became runs.
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.runs)).scalar_one()
    assert stored > 0


# -- known bugs, one exact request each --------------------------------------------------------

BOTH = "both"
PG = "postgresql"
SQLITE = "sqlite"


def _cursor(at: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, "run_x"]).encode()).decode()


def _run_event(**run: Any) -> list[dict[str, Any]]:
    fields: dict[str, Any] = {
        "id": "run_fuzz_bug",
        "agent": AGENT,
        "spec_hash": "h",
        "started_at": "2026-01-01T00:00:00Z",
        "status": "resolved",
    }
    return [{"type": "run", "run": fields | run}]


def _otlp(mutate: Callable[[dict[str, AnyValue], Span], None]) -> bytes:
    request = encode_spans(agent_spans())
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                mutate({kv.key: kv.value for kv in span.attributes}, span)
    return request.SerializeToString()


def _set_tokens(value: AnyValue) -> Callable[[dict[str, AnyValue], Span], None]:
    def mutate(attrs: dict[str, AnyValue], span: Span) -> None:
        if "gen_ai.usage.input_tokens" in attrs:
            attrs["gen_ai.usage.input_tokens"].CopyFrom(value)

    return mutate


def _set_attr(key: str, text: str) -> Callable[[dict[str, AnyValue], Span], None]:
    def mutate(attrs: dict[str, AnyValue], span: Span) -> None:
        if key in attrs:
            attrs[key].string_value = text

    return mutate


@dataclass
class Bug:
    """One request that answers 5xx, on which databases, and why."""

    method: str
    path: str
    fails_on: str
    reason: str
    json_body: Any = None
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, Any] | None = None
    token: str | None = "admin"
    want_4xx: bool = False
    """A wrong status, not a crash: the request must be refused (4xx)."""


KNOWN_BUGS: dict[str, Bug] = {
    "audit-after-seq-beyond-int64": Bug(
        "GET",
        "/api/audit",
        BOTH,
        "integer-out-of-range: after_seq has ge=0 and no upper bound; 2**63 reaches the query: "
        "SQLite OverflowError, PostgreSQL NumericValueOutOfRange -> 500 (should be 422)",
        params={"after_seq": 2**63},
    ),
    "runs-filter-naive-datetime": Bug(
        "GET",
        "/api/runs",
        BOTH,
        "unstorable-datetime: since/until without a UTC offset parse as naive datetimes and "
        "UTCDateTime.process_bind_param raises ValueError -> 500 (should be 422 or read as UTC)",
        params={"since": "2026-01-01T00:00:00"},
    ),
    "runs-filter-datetime-out-of-range": Bug(
        "GET",
        "/api/runs",
        BOTH,
        "unstorable-datetime: until=9999-12-31T23:59:59-01:00 is valid RFC 3339 but past year "
        "9999 in UTC; astimezone(UTC) raises OverflowError in the store -> 500",
        params={"until": "9999-12-31T23:59:59-01:00"},
    ),
    "runs-cursor-naive-datetime": Bug(
        "GET",
        "/api/runs",
        BOTH,
        "unstorable-datetime: a cursor whose timestamp is naive passes _decode and reaches "
        "the store's UTCDateTime -> ValueError -> 500 (should be 400 'not a cursor')",
        params={"cursor": _cursor("2026-01-01T00:00:00")},
    ),
    "events-naive-started-at": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        BOTH,
        "unstorable-datetime: RunRecord accepts a naive started_at; the store raises "
        "ValueError on apply -> 500 (a remote SDK sending local times gets a 500, not a 422)",
        json_body=_run_event(started_at="2026-01-01T00:00:00"),
    ),
    "events-datetime-before-year-1-utc": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        BOTH,
        "unstorable-datetime: started_at=0001-01-01T00:00:00+01:00 is before year 1 in UTC: "
        "OverflowError in UTCDateTime -> 500",
        json_body=_run_event(started_at="0001-01-01T00:00:00+01:00"),
    ),
    "events-int-beyond-int64": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        BOTH,
        "integer-out-of-range: RunRecord.steps has no upper bound; 2**63 -> SQLite "
        "OverflowError, PostgreSQL NumericValueOutOfRange -> 500 (should be 422)",
        json_body=_run_event(steps=2**63),
    ),
    "events-int-beyond-int32": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        PG,
        "integer-out-of-range: runs.steps (and the other counters) are PostgreSQL integer; "
        "steps=2**31 -> NumericValueOutOfRange -> 500",
        json_body=_run_event(steps=2**31),
    ),
    "events-nan-cost": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        SQLITE,
        "RunRecord.cost_usd accepts 'NaN' (pydantic allows inf/nan); SQLite stores NaN as "
        "NULL and the NOT NULL constraint fails -> 500 (PostgreSQL stores NaN: 200)",
        json_body=_run_event(cost_usd="NaN"),
    ),
    "events-id-longer-than-column": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        PG,
        "too-long-on-postgresql: RunRecord.id has no max_length; runs.id is varchar(64): "
        "StringDataRightTruncation -> 500",
        json_body=_run_event(id="r" * 65),
    ),
    "events-nul-in-json": Bug(
        "POST",
        f"/api/agents/{AGENT}/events",
        PG,
        "nul-on-postgresql: run input '\\u0000' goes into a jsonb column: "
        "UntranslatableCharacter -> 500",
        json_body=_run_event(input="a\x00b"),
    ),
    "kill-reason-nul": Bug(
        "POST",
        f"/api/agents/{AGENT}/kill",
        PG,
        "nul-on-postgresql: a NUL in any string that reaches PostgreSQL (here the kill "
        "reason) -> psycopg DataError 'cannot contain NUL (0x00) bytes' -> 500",
        json_body={"reason": "a\x00b"},
    ),
    "path-nul": Bug(
        "GET",
        f"/api/agents/{AGENT}%00/kill-switch",
        PG,
        "nul-on-postgresql: a NUL in a path parameter used in a query -> DataError -> 500",
    ),
    "kill-agent-longer-than-column": Bug(
        "POST",
        f"/api/agents/{'a' * 65}/kill",
        PG,
        "too-long-on-postgresql: the {agent} path parameter has no max length; "
        "kill_switches.agent is varchar(64): StringDataRightTruncation -> 500",
        json_body={"reason": "r"},
    ),
    "anonymous-long-path": Bug(
        "GET",
        f"/api/agents/{'a' * 130}",
        PG,
        "too-long-on-postgresql: without a token, deps._audit_denial writes 'GET <path>' to "
        "audit_log.subject varchar(128) and only suppresses StoreUnavailable -> DataError -> "
        "500 instead of 401 (and the refusal is not audited)",
        token=None,
    ),
    "otlp-token-count-not-a-number": Bug(
        "POST",
        "/v1/traces",
        BOTH,
        "otlp_ingest._map_trace calls int() on gen_ai.usage.input_tokens: a string value "
        "('1k') raises ValueError (a NaN double ValueError, an infinite one OverflowError) "
        "-> 500 instead of a rejected span in partial_success",
        content=_otlp(_set_tokens(AnyValue(string_value="1k"))),
        content_type=OTLP_PROTOBUF,
    ),
    "otlp-token-count-beyond-int32": Bug(
        "POST",
        "/v1/traces",
        PG,
        "integer-out-of-range: gen_ai.usage.input_tokens=2**31 is a valid int64 attribute; "
        "model_calls.input_tokens is PostgreSQL integer -> NumericValueOutOfRange -> 500",
        content=_otlp(_set_tokens(AnyValue(int_value=2**31))),
        content_type=OTLP_PROTOBUF,
    ),
    "otlp-agent-name-longer-than-column": Bug(
        "POST",
        "/v1/traces",
        PG,
        "too-long-on-postgresql: gen_ai.agent.name of 65 characters (also tool and model "
        "names over 128) -> StringDataRightTruncation -> 500",
        content=_otlp(_set_attr("gen_ai.agent.name", "a" * 65)),
        content_type=OTLP_PROTOBUF,
    ),
    "otlp-nul-in-attribute": Bug(
        "POST",
        "/v1/traces",
        PG,
        "nul-on-postgresql: gen_ai.tool.name with a NUL -> DataError -> 500",
        content=_otlp(_set_attr("gen_ai.tool.name", "search\x00web")),
        content_type=OTLP_PROTOBUF,
    ),
    "otlp-json-body-not-an-object": Bug(
        "POST",
        "/v1/traces",
        BOTH,
        "otlp-json-not-an-object: decode_request passes any JSON value to "
        "json_format.ParseDict; true, 1 or null raise TypeError (not caught) -> 500 "
        "(should be 400 otlp.invalid)",
        content=b"true",
        content_type=OTLP_JSON,
    ),
    "otlp-json-array-accepted": Bug(
        "POST",
        "/v1/traces",
        BOTH,
        'otlp-json-not-an-object: a JSON body [] (or a string, "x") is not an '
        "ExportTraceServiceRequest but ParseDict iterates it as an empty one -> 200 {} "
        "(should be 400 otlp.invalid)",
        content=b"[]",
        content_type=OTLP_JSON,
        want_4xx=True,
    ),
    "otlp-json-deeply-nested-body": Bug(
        "POST",
        "/v1/traces",
        BOTH,
        "decode_request catches ValueError etc. but not RecursionError: a JSON body nested "
        "100 000 deep -> RecursionError from json.loads -> 500 (should be 400 otlp.invalid)",
        content=b"[" * 100_000 + b"]" * 100_000,
        content_type=OTLP_JSON,
    ),
    "otlp-deeply-nested-attribute-json": Bug(
        "POST",
        "/v1/traces",
        BOTH,
        "otlp_ingest._json catches JSONDecodeError only: gen_ai.input.messages holding JSON "
        "nested 100 000 deep -> RecursionError -> 500",
        content=_otlp(_set_attr("gen_ai.input.messages", "[" * 100_000 + "]" * 100_000)),
        content_type=OTLP_PROTOBUF,
    ),
}


def _bug_params() -> Iterator[Any]:
    db = PG if ON_POSTGRES else SQLITE
    for name, bug in KNOWN_BUGS.items():
        # Every one is fixed: each request is a regression test on the database it broke.
        if bug.fails_on in (BOTH, db):
            yield pytest.param(bug, id=name)


@pytest.mark.parametrize("bug", list(_bug_params()))
def test_known_bug_requests_do_not_5xx(api: Api, store: SqlStore, bug: Bug) -> None:
    """Each request is answered below 500 (strict xfail where the bug is: see ``reason``)."""
    apply_spec(store, make_spec(ROUTER_TOOLS), actor="alice@example.com", clock=SystemClock())
    headers = api.as_(bug.token) if bug.token else {}
    if bug.content_type:
        headers["Content-Type"] = bug.content_type
    try:
        response = api.client.request(
            bug.method,
            bug.path,
            params=bug.params,
            json=bug.json_body,
            content=bug.content,
            headers=headers,
        )
    except Exception as exc:  # the TestClient re-raises what the app raised: a 500
        pytest.fail(f"500: {exc!r}"[:500])
    assert response.status_code < 500, response.text[:300]
    if bug.want_4xx:
        assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


def test_openapi_requires_the_event_type(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("RunRecorded", "RunHeartbeat", "ToolCallRecorded", "ModelCallRecorded"):
        assert "type" in schemas[name].get("required", []), name
