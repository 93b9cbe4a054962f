"""GovernedOpenAI against recorded Chat Completions responses (no network: httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from pydantic import BaseModel, Field

from warden.core.clock import FakeClock
from warden.core.pricing import cost_usd
from warden.core.runs import RunStatus
from warden.errors import BudgetExceeded, ConfigError, KillSwitchEngaged, ModelOutputError
from warden.integrations.openai import GovernedOpenAI, response_format_for
from warden.runtime.run import Run
from warden.store import SqlStore

RECORDINGS = Path(__file__).parent / "recordings"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
USER = [
    {"role": "system", "content": "Route the ticket to one queue."},
    {"role": "user", "content": "My new card still has not arrived."},
]

Expect = Callable[[int, dict[str, Any]], None]


class Triage(BaseModel):
    queue: Literal["card_arrival", "refund", "fraud"]
    confidence: float = Field(ge=0, le=1)
    summary: str


TRIAGE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "Triage",
        "strict": True,
        "schema": {
            "type": "object",
            "title": "Triage",
            "properties": {
                "queue": {
                    "enum": ["card_arrival", "refund", "fraud"],
                    "title": "Queue",
                    "type": "string",
                },
                "confidence": {"maximum": 1, "minimum": 0, "title": "Confidence", "type": "number"},
                "summary": {"title": "Summary", "type": "string"},
            },
            "required": ["queue", "confidence", "summary"],
            "additionalProperties": False,
        },
    },
}


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


class FakeOpenAI:
    """Replays recorded responses in order; ``expect(i, body)`` asserts on request ``i``.

    Each response takes ``latency_s`` on the fake clock.
    """

    def __init__(
        self,
        clock: FakeClock,
        replies: list[tuple[int, str]],
        expect: Expect,
        *,
        latency_s: float = 0.0,
    ) -> None:
        self.clock = clock
        self.replies = replies
        self.expect = expect
        self.latency_s = latency_s
        self.bodies: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url == "http://openai.test/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer test"
        body = json.loads(request.content)
        index = len(self.bodies)
        self.bodies.append(body)
        assert index < len(self.replies), f"unexpected request #{index + 1}: {body}"
        self.expect(index, body)
        status, name = self.replies[index]
        self.clock.advance(self.latency_s)
        return httpx.Response(
            status, json=recording(name), headers={"x-request-id": f"req_test{index}"}
        )

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key="test",
            base_url="http://openai.test/v1",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
        )


def expect_plain(index: int, body: dict[str, Any]) -> None:
    assert body == {"model": "gpt-4o-mini", "messages": USER, "temperature": 0, "stream": False}


def expect_triage(index: int, body: dict[str, Any]) -> None:
    """Every structured request asks for the strict Triage schema and starts with USER."""
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == TRIAGE_FORMAT
    assert body["messages"][: len(USER)] == USER
    assert len(body["messages"]) == len(USER) + 2 * index  # one invalid reply + one re-ask each
    assert body["stream"] is False


def usage_of(name: str) -> tuple[int, int]:
    usage = recording(name)["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"]


# -- plain completions -----------------------------------------------------------------------


def test_create_records_tokens_cost_and_latency_on_run_and_store(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    gov = make_governor(spec_factory({}))
    fake = FakeOpenAI(clock, [(200, "chat_completion_text")], expect_plain, latency_s=0.42)
    with gov.run(input={"ticket": "t-1"}) as run:
        llm = GovernedOpenAI(fake.client(), run)
        reply = llm.create(model="gpt-4o-mini", messages=USER, temperature=0)
        assert reply.choices[0].message.content is not None
        assert reply.choices[0].message.content.startswith("Your new card")
        run.resolve(output={"reply": reply.choices[0].message.content})
    gov.flush()

    expected_cost = (64 * 0.15 + 48 * 0.60) / 1e6
    assert cost_usd(SNAPSHOT, 64, 48) == pytest.approx(expected_cost)
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.steps) == (64, 48, 1)
    assert run.usage.cost_usd == pytest.approx(expected_cost)

    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.status is RunStatus.RESOLVED
    assert (detail.run.input_tokens, detail.run.output_tokens) == (64, 48)
    assert detail.run.cost_usd == pytest.approx(expected_cost)
    [call] = detail.model_calls
    assert call.model == SNAPSHOT
    assert call.provider == "openai"
    assert (call.input_tokens, call.output_tokens) == (64, 48)
    assert call.cost_usd == pytest.approx(expected_cost)
    assert call.latency_s == pytest.approx(0.42)
    assert call.attempts == 1
    assert call.error is None
    assert len(fake.bodies) == 1


# -- structured output -----------------------------------------------------------------------


def test_response_format_is_the_strict_schema() -> None:
    assert response_format_for(Triage) == TRIAGE_FORMAT


def test_parse_valid_first_time(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    gov = make_governor(spec_factory({}))
    fake = FakeOpenAI(clock, [(200, "chat_completion_triage_valid")], expect_triage)
    messages = list(USER)
    with gov.run() as run:
        result = GovernedOpenAI(fake.client(), run).parse(
            model="gpt-4o-mini", messages=messages, response_model=Triage
        )
        run.resolve(output=result.output.model_dump())
    gov.flush()

    assert result.output == Triage(
        queue="card_arrival",
        confidence=0.92,
        summary="Customer is waiting for a replacement card ordered last week.",
    )
    assert result.attempts == 1
    assert result.completion.id == "chatcmpl-BDj5Ab3TfLw9sKq2NcXe7RyUo1PdM"
    assert result.completions == (result.completion,)
    assert messages == USER  # the caller's list is not modified
    detail = store.get_run(run.id)
    assert detail is not None
    [call] = detail.model_calls
    assert (call.input_tokens, call.output_tokens, call.attempts, call.error) == (187, 29, 1, None)
    assert call.cost_usd == pytest.approx(cost_usd(SNAPSHOT, 187, 29))


def test_parse_invalid_then_valid_reasks_once(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    invalid = recording("chat_completion_triage_invalid")["choices"][0]["message"]["content"]

    def expect(index: int, body: dict[str, Any]) -> None:
        expect_triage(index, body)
        if index == 1:
            assistant, reask = body["messages"][len(USER) :]
            assert assistant == {"role": "assistant", "content": invalid}
            assert reask["role"] == "user"
            assert "did not match the required JSON schema Triage" in reask["content"]
            assert "queue: Input should be 'card_arrival', 'refund' or 'fraud'" in reask["content"]
            assert "confidence: Input should be less than or equal to 1" in reask["content"]

    fake = FakeOpenAI(
        clock,
        [(200, "chat_completion_triage_invalid"), (200, "chat_completion_triage_valid")],
        expect,
        latency_s=0.5,
    )
    gov = make_governor(spec_factory({}))
    with gov.run() as run:
        result = GovernedOpenAI(fake.client(), run).parse(
            model="gpt-4o-mini", messages=USER, response_model=Triage, max_reasks=2
        )
        run.resolve(output=result.output.model_dump())
    gov.flush()

    assert result.output.queue == "card_arrival"
    assert result.attempts == 2
    assert [c.id for c in result.completions] == [
        "chatcmpl-BDj5Uo8cZrN4hVx1LmTq6WsEa2KfY",
        "chatcmpl-BDj5Ab3TfLw9sKq2NcXe7RyUo1PdM",
    ]
    assert len(fake.bodies) == 2
    detail = store.get_run(run.id)
    assert detail is not None
    first, second = detail.model_calls
    assert first.seq < second.seq
    assert (first.attempts, second.attempts) == (1, 2)
    assert first.error is not None
    assert first.error.startswith("invalid Triage: queue: Input should be")
    assert second.error is None
    assert (first.input_tokens, first.output_tokens) == (187, 22)
    assert (second.input_tokens, second.output_tokens) == (187, 29)
    assert all(c.latency_s == pytest.approx(0.5) for c in detail.model_calls)
    assert detail.run.input_tokens == 187 + 187
    assert detail.run.cost_usd == pytest.approx(
        sum(cost_usd(SNAPSHOT, c.input_tokens, c.output_tokens) or 0.0 for c in detail.model_calls)
    )
    assert detail.run.cost_usd == pytest.approx((374 * 0.15 + 51 * 0.60) / 1e6)


@pytest.mark.parametrize("max_reasks", [0, 1, 2])
def test_parse_always_invalid_fails_the_run_after_the_bound(
    max_reasks: int, make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    replies = [(200, "chat_completion_triage_invalid")] * max_reasks + [
        (200, "chat_completion_triage_truncated")
    ]
    fake = FakeOpenAI(clock, replies, expect_triage)
    gov = make_governor(spec_factory({}))
    with gov.run() as run:
        GovernedOpenAI(fake.client(), run).parse(
            model="gpt-4o-mini", messages=USER, response_model=Triage, max_reasks=max_reasks
        )
    gov.flush()

    assert len(fake.bodies) == 1 + max_reasks
    assert run.status is RunStatus.FAILED
    assert isinstance(run.error, ModelOutputError)
    message = str(run.error)
    assert SNAPSHOT in message
    assert f"after {1 + max_reasks} attempt(s)" in message
    assert "last validation error: (root): Invalid JSON: EOF while parsing" in message
    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.error_code == "model.output_invalid"
    assert [c.attempts for c in detail.model_calls] == list(range(1, max_reasks + 2))
    assert all(c.error and c.error.startswith("invalid Triage:") for c in detail.model_calls)


def test_refusal_raises_without_reasking(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    fake = FakeOpenAI(clock, [(200, "chat_completion_refusal")], expect_triage)
    gov = make_governor(spec_factory({}))
    with gov.run() as run:
        llm = GovernedOpenAI(fake.client(), run)
        with pytest.raises(ModelOutputError, match="refused to answer as Triage"):
            llm.parse(model="gpt-4o-mini", messages=USER, response_model=Triage)
        run.escalate("model refused")
    gov.flush()

    assert len(fake.bodies) == 1
    detail = store.get_run(run.id)
    assert detail is not None
    [call] = detail.model_calls
    assert (call.input_tokens, call.output_tokens) == (203, 11)
    assert call.error == "refused: I'm sorry, I can't assist with that request."


# -- API errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name", "exc_type", "text"),
    [
        (500, "error_500_server_error", openai.InternalServerError, "The server had an error"),
        (429, "error_429_rate_limit", openai.RateLimitError, "Rate limit reached for gpt-4o-mini"),
    ],
)
def test_api_error_is_recorded_and_reraised(
    status: int,
    name: str,
    exc_type: type[openai.APIStatusError],
    text: str,
    make_governor: Any,
    spec_factory: Any,
    clock: FakeClock,
    store: SqlStore,
) -> None:
    fake = FakeOpenAI(clock, [(status, name)], expect_plain, latency_s=0.2)
    gov = make_governor(spec_factory({}))
    with pytest.raises(exc_type) as info, gov.run() as run:
        GovernedOpenAI(fake.client(), run).create(model="gpt-4o-mini", messages=USER, temperature=0)
    gov.flush()

    assert info.value.status_code == status
    assert run.status is RunStatus.FAILED
    assert run.error is info.value
    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.status is RunStatus.FAILED
    [call] = detail.model_calls
    assert call.model == "gpt-4o-mini"
    assert call.provider == "openai"
    assert (call.input_tokens, call.output_tokens) == (0, 0)
    assert call.cost_usd == 0.0
    assert call.latency_s == pytest.approx(0.2)
    assert call.error is not None
    assert call.error.startswith(f"HTTP {status} {exc_type.__name__}: ")
    assert text in call.error


# -- budgets and the kill switch -------------------------------------------------------------


@pytest.mark.parametrize(
    ("escalation", "status"),
    [
        ({"queue": "tier1-humans"}, RunStatus.ESCALATED),
        ({"queue": "tier1-humans", "on": []}, RunStatus.FAILED),
    ],
)
def test_call_over_max_tokens_ends_the_run(
    escalation: dict[str, Any],
    status: RunStatus,
    make_governor: Any,
    spec_factory: Any,
    clock: FakeClock,
    store: SqlStore,
) -> None:
    spec = spec_factory({}, budgets={"per_run": {"max_tokens": 100}}, escalation=escalation)
    gov = make_governor(spec)
    fake = FakeOpenAI(clock, [(200, "chat_completion_text")], expect_plain)
    reached_end = False
    with gov.run() as run:
        GovernedOpenAI(fake.client(), run).create(model="gpt-4o-mini", messages=USER, temperature=0)
        reached_end = True
    gov.flush()

    assert not reached_end
    assert run.status is status
    assert isinstance(run.error, BudgetExceeded)
    assert run.error.limit == "per_run.max_tokens"
    assert (run.error.used, run.error.allowed) == (112, 100)
    detail = store.get_run(run.id)
    assert detail is not None
    assert detail.run.status is status
    assert detail.run.input_tokens + detail.run.output_tokens == 112  # the call is on the record
    assert len(detail.model_calls) == 1
    assert len(detail.handoffs) == (1 if status is RunStatus.ESCALATED else 0)


def test_no_request_is_sent_once_the_budget_is_spent(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    gov = make_governor(spec_factory({}, budgets={"per_run": {"max_tokens": 100}}))
    fake = FakeOpenAI(clock, [(200, "chat_completion_text")], expect_plain)
    with gov.run() as run:
        llm = GovernedOpenAI(fake.client(), run)
        with pytest.raises(BudgetExceeded):
            llm.create(model="gpt-4o-mini", messages=USER, temperature=0)
        with pytest.raises(BudgetExceeded, match=r"per_run\.max_tokens"):
            llm.create(model="gpt-4o-mini", messages=USER, temperature=0)
        run.escalate("out of budget")
    gov.flush()

    assert len(fake.bodies) == 1
    detail = store.get_run(run.id)
    assert detail is not None
    assert len(detail.model_calls) == 1


def test_kill_switch_stops_the_call_before_it_is_sent(
    make_governor: Any, spec_factory: Any, clock: FakeClock, store: SqlStore
) -> None:
    gov = make_governor(spec_factory({}))
    fake = FakeOpenAI(clock, [], expect_plain)
    runs: list[Run] = []

    def agent() -> None:
        with gov.run() as run:
            runs.append(run)
            store.set_kill_switch(
                "test-agent", engaged=True, reason="drill", actor="oncall", at=clock.now()
            )
            clock.advance(1.0)  # past the kill switch cache
            GovernedOpenAI(fake.client(), run).create(
                model="gpt-4o-mini", messages=USER, temperature=0
            )

    with pytest.raises(KillSwitchEngaged, match="drill"):
        agent()
    [run] = runs
    assert fake.bodies == []
    assert run.status is RunStatus.KILLED


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"stream": True}, {"response_format": {"type": "json_object"}}, {"max_reasks": -1}],
)
def test_unsupported_arguments_are_refused_before_sending(
    kwargs: dict[str, Any], make_governor: Any, spec_factory: Any, clock: FakeClock
) -> None:
    gov = make_governor(spec_factory({}))
    fake = FakeOpenAI(clock, [], expect_triage)
    with gov.run() as run:
        llm = GovernedOpenAI(fake.client(), run)
        with pytest.raises(ConfigError):
            llm.parse(model="gpt-4o-mini", messages=USER, response_model=Triage, **kwargs)
        if "stream" in kwargs:
            with pytest.raises(ConfigError):
                llm.create(model="gpt-4o-mini", messages=USER, stream=True)
        run.resolve()
    assert fake.bodies == []
