"""Bugs found by fuzzing (``test_fuzz.py``, ``routers/test_otlp_fuzz.py``), one exact
request each.

``KNOWN_BUGS``: naive and out-of-range datetimes, 64-bit overflows, NaN, non-object or
deeply nested OTLP JSON, non-numeric token counts, the events' discriminator. All are
fixed; each request stays as a regression test on the database it broke, and no input
class is tolerated by the fuzz passes any more.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.conftest import ON_POSTGRES, make_spec
from tests.server.conftest import ROUTER_TOOLS, Api
from tests.server.fuzzing import AGENT, OTLP_JSON, OTLP_PROTOBUF
from tests.telemetry.test_otlp_ingest import agent_spans
from warden.control.scope import apply_spec
from warden.core.clock import SystemClock
from warden.store import SqlStore

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
