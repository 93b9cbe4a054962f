"""Govern calls made with the official OpenAI Python SDK (``openai`` v1+, Chat Completions).

Wrap the client once per run; every call is checked against the run before it is sent,
timed on the run's (injected) clock and recorded with ``run.record_model_call`` (tokens, cost
from the price table, latency), so the spec's budgets apply to it::

    from warden.integrations.openai import GovernedOpenAI

    with gov.run(input=ticket) as run:
        llm = GovernedOpenAI(openai.OpenAI(), run)
        reply = llm.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        triage = llm.parse(model="gpt-4o-mini", messages=msgs, response_model=Triage)
        run.resolve(output=triage.output.model_dump())

Structured output: ``parse`` asks for the pydantic model's strict JSON schema
(``response_format={"type": "json_schema", ...}``), validates the reply with
``response_model.model_validate_json`` and, while it is invalid, re-asks with the
validation errors appended to the conversation, at most ``max_reasks`` times. It calls
``chat.completions.create`` rather than the SDK's ``chat.completions.parse`` so that a
reply that fails validation still has its token usage recorded and charged.

Errors:
    - ``openai.APIError`` (``APIStatusError`` such as a 429 or 500, ``APIConnectionError``,
      ``APITimeoutError``, ...) is recorded as a model call with ``error`` set and zero
      tokens, then re-raised **unchanged** (not wrapped), so existing ``except
      openai.RateLimitError`` code keeps working. Inside ``with gov.run(...)`` such an
      error ends the run ``failed`` and propagates (it is not a Warden run error).
    - ``ModelOutputError`` when the structured output is still invalid after the re-asks,
      or when the model refuses.
    - ``BudgetExceeded`` / ``KillSwitchEngaged`` / ``RunStateError`` from the run, before a
      call is sent (nothing is spent) or after it is recorded (the call is on the record).
      If recording a failed call raises one of these, it replaces the API error, which is
      kept as its ``__context__``.

Retries the SDK makes itself (``max_retries`` on the client) happen inside one recorded
call: its latency includes them. Streaming is not supported (usage would be unknown
until the stream ends). Cost uses the full input price for cached prompt tokens, so it
errs high.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ValidationError

from warden.errors import ConfigError, ModelOutputError
from warden.runtime.run import Run

__all__ = ["PROVIDER", "GovernedOpenAI", "StructuredCompletion", "response_format_for"]

log = logging.getLogger("warden.integrations.openai")

PROVIDER = "openai"
"""Recorded as the model call's ``provider`` (OTel ``gen_ai.provider.name``)."""

_MAX_ERRORS_SHOWN = 10
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class StructuredCompletion(Generic[T]):
    """A validated structured reply and the completions it took to get it.

    Attributes:
        output: The reply validated as ``response_model``.
        completion: The completion whose content validated (the last one).
        completions: Every completion of the exchange in the order received, one per
            attempt (``len(completions) == attempts``); each was recorded on the run.
    """

    output: T
    completion: ChatCompletion
    completions: tuple[ChatCompletion, ...]

    @property
    def attempts(self) -> int:
        """Calls made: 1 plus the re-asks."""
        return len(self.completions)


def response_format_for(response_model: type[BaseModel]) -> ResponseFormatJSONSchema:
    """The strict ``json_schema`` response format that asks for ``response_model``.

    The schema is the one the SDK itself sends for ``chat.completions.parse`` (every object
    closed with ``additionalProperties: false``, every property required).

    Args:
        response_model: A pydantic model class.

    Returns:
        ``{"type": "json_schema", "json_schema": {"name", "schema", "strict": True}}``;
        ``name`` is the class name with characters outside ``[a-zA-Z0-9_-]`` replaced by
        ``_``, at most 64 characters.
    """
    tool = openai.pydantic_function_tool(response_model)
    schema = tool["function"].get("parameters", {})
    name = _NAME_UNSAFE.sub("_", response_model.__name__)[:64]
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": True},
    }


class GovernedOpenAI:
    """An OpenAI client whose Chat Completions calls are governed by one run.

    Args:
        client: A configured ``openai.OpenAI`` client (its own retries and timeout apply).
        run: The run the calls belong to; it must be running (``with gov.run(...) as run``).

    Attributes:
        client: The wrapped client.
        run: The run every call is recorded on.
    """

    def __init__(self, client: openai.OpenAI, run: Run) -> None:
        self.client = client
        self.run = run

    def create(
        self,
        *,
        model: str,
        messages: Sequence[ChatCompletionMessageParam],
        **kwargs: Any,
    ) -> ChatCompletion:
        """Send one chat completion request and record it on the run.

        Args:
            model: Requested model, e.g. ``gpt-4o-mini``. The call is recorded under the
                model the API reports (``completion.model``, e.g. the dated snapshot
                ``gpt-4o-mini-2024-07-18``), which prices the same.
            messages: The conversation, as the SDK takes it.
            **kwargs: Any other ``chat.completions.create`` argument (``temperature``,
                ``tools``, ``max_completion_tokens``, ``timeout``, ...) except ``stream``.

        Returns:
            The SDK's ``ChatCompletion``, unchanged. Its ``usage.prompt_tokens`` and
            ``usage.completion_tokens`` were recorded as input and output tokens, the
            latency in seconds, and the cost in USD from ``warden.core.pricing``.

        Raises:
            openai.APIError: The request failed (recorded with ``error`` set, re-raised).
            BudgetExceeded: A run budget is spent, before the call (not sent) or counting
                this call's tokens and cost (recorded).
            KillSwitchEngaged: The agent's kill switch is on (the call is not sent).
            RunStateError: The run has ended.
            ConfigError: ``stream`` was passed.
        """
        _refuse(kwargs, "stream")
        completion, latency_s = self._send(model, messages, kwargs)
        self._record(completion, model, latency_s, attempt=1, error=None)
        return completion

    def parse(
        self,
        *,
        model: str,
        messages: Sequence[ChatCompletionMessageParam],
        response_model: type[T],
        max_reasks: int = 2,
        **kwargs: Any,
    ) -> StructuredCompletion[T]:
        """Ask for a reply shaped as ``response_model``; re-ask while it is invalid.

        Each call is recorded on the run with ``attempts`` set to its 1-based attempt
        number; a call whose reply failed validation is recorded with ``error`` set to
        the validation errors. Each re-ask sends the conversation so far plus the
        model's invalid reply and a user message listing the validation errors. Only
        the first choice is validated.

        Args:
            model: Requested model, e.g. ``gpt-4o-mini``.
            messages: The conversation, as the SDK takes it (not modified).
            response_model: The pydantic model the reply must validate as.
            max_reasks: Re-asks allowed after the first call (>= 0); at most
                ``1 + max_reasks`` calls are made.
            **kwargs: Any other ``chat.completions.create`` argument except ``stream``
                and ``response_format``.

        Returns:
            The validated output, the completion that produced it, and every completion.

        Raises:
            ModelOutputError: The reply was still invalid after ``max_reasks`` re-asks,
                or the model refused; the message names the model and the last
                validation error (chained as ``__cause__``).
            openai.APIError: A request failed (recorded with ``error`` set, re-raised).
            BudgetExceeded: A run budget is spent (before a call, or counting it).
            KillSwitchEngaged: The agent's kill switch is on.
            RunStateError: The run has ended.
            ConfigError: ``max_reasks`` is negative, or ``stream`` / ``response_format``
                was passed.
        """
        if max_reasks < 0:
            raise ConfigError(f"max_reasks must be >= 0, got {max_reasks}")
        _refuse(kwargs, "stream")
        _refuse(kwargs, "response_format")
        request = {**kwargs, "response_format": response_format_for(response_model)}
        history: list[ChatCompletionMessageParam] = list(messages)
        completions: list[ChatCompletion] = []
        schema_name = response_model.__name__
        for attempt in range(1, max_reasks + 2):
            completion, latency_s = self._send(model, history, request)
            completions.append(completion)
            served = completion.model or model
            message = completion.choices[0].message if completion.choices else None
            if message is not None and message.refusal:
                self._record(completion, model, latency_s, attempt, f"refused: {message.refusal}")
                raise ModelOutputError(
                    f"model {served} refused to answer as {schema_name}: {message.refusal}"
                )
            content = message.content if message is not None else None
            try:
                output = response_model.model_validate_json(content or "")
            except ValidationError as exc:
                problems = _describe(exc, content)
                self._record(
                    completion, model, latency_s, attempt, f"invalid {schema_name}: {problems}"
                )
                if attempt > max_reasks:
                    raise ModelOutputError(
                        f"model {served} gave no valid {schema_name} after {attempt} "
                        f"attempt(s) ({max_reasks} re-ask(s) allowed); last validation "
                        f"error: {problems}"
                    ) from exc
                if content:
                    history.append({"role": "assistant", "content": content})
                history.append({"role": "user", "content": _reask_prompt(schema_name, problems)})
                continue
            self._record(completion, model, latency_s, attempt, None)
            return StructuredCompletion(
                output=output, completion=completion, completions=tuple(completions)
            )
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    # -- internals ------------------------------------------------------------------------

    def _send(
        self,
        model: str,
        messages: Sequence[ChatCompletionMessageParam],
        kwargs: dict[str, Any],
    ) -> tuple[ChatCompletion, float]:
        """Check the run, send the request, return the completion and seconds taken.

        A failed request is recorded (zero tokens, ``error`` set) and re-raised.
        """
        run = self.run
        # Fail closed before money is spent; record_model_call checks again afterwards.
        run.check_before_model_call()
        clock = run.clock
        t0 = clock.monotonic()
        try:
            completion = self.client.chat.completions.create(
                model=model, messages=messages, stream=False, **kwargs
            )
        except openai.APIError as exc:
            run.record_model_call(
                model=model,
                latency_s=clock.monotonic() - t0,
                provider=PROVIDER,
                error=_api_error_text(exc),
            )
            raise
        return completion, clock.monotonic() - t0

    def _record(
        self,
        completion: ChatCompletion,
        requested: str,
        latency_s: float,
        attempt: int,
        error: str | None,
    ) -> None:
        usage = completion.usage
        if usage is None:
            log.warning(
                "completion %s has no usage: recorded with 0 tokens; token and cost "
                "budgets cannot see it",
                completion.id,
            )
        self.run.record_model_call(
            model=completion.model or requested,
            input_tokens=usage.prompt_tokens if usage is not None else 0,
            output_tokens=usage.completion_tokens if usage is not None else 0,
            latency_s=latency_s,
            provider=PROVIDER,
            attempts=attempt,
            error=error,
        )


def _refuse(kwargs: dict[str, Any], name: str) -> None:
    if name in kwargs:
        raise ConfigError(f"GovernedOpenAI does not accept {name}=; see its docstring")


def _api_error_text(exc: openai.APIError) -> str:
    status = f"HTTP {exc.status_code} " if isinstance(exc, openai.APIStatusError) else ""
    return f"{status}{type(exc).__name__}: {exc.message}"


def _describe(exc: ValidationError, content: str | None) -> str:
    """The validation errors as one line each, e.g. ``queue: Field required``."""
    if not content:
        return "the reply has no text content"
    errors = exc.errors(include_url=False)
    lines = [
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in errors[:_MAX_ERRORS_SHOWN]
    ]
    if len(errors) > _MAX_ERRORS_SHOWN:
        lines.append(f"... and {len(errors) - _MAX_ERRORS_SHOWN} more")
    return "; ".join(lines)


def _reask_prompt(schema_name: str, problems: str) -> str:
    return (
        f"Your reply did not match the required JSON schema {schema_name}: {problems}. "
        "Reply again with only a JSON object that matches the schema."
    )
