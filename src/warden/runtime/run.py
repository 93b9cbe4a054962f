"""A governed run: one task an agent takes on, from input to exactly one terminal state.

Use it as a context manager::

    with wd.run(input=ticket, routing_key=customer_id) as run:
        customer = run.call("lookup_customer", customer_id="c-1")
        run.record_model_call(model="gpt-4o-mini", input_tokens=420, output_tokens=31, latency_s=0.8)
        run.call("route_ticket", ticket_id="t1", queue="card_arrival")
        run.resolve(output={"queue": "card_arrival"})

Leaving the block without ``resolve``/``escalate`` ends the run ``failed``. Warden's own
run errors (``PolicyDenied``, ``BudgetExceeded``, ``ToolExecutionError``, ...) that reach
the end of the block end the run (``blocked``, ``escalated`` with a handoff, or
``failed``, as the spec's escalation says) and are not re-raised unless the governor was
opened with ``raise_run_errors=True``; check ``run.status`` after the block. Other
exceptions are recorded and re-raised. ``KillSwitchEngaged`` (a ``BaseException``) ends
the run ``killed`` and is always re-raised, at run start too.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from types import TracebackType
from typing import Any, Protocol

from warden.core.calls import CallInput, RunState, canonical_json
from warden.core.clock import Clock
from warden.core.events import HandoffCreated, ModelCallRecorded, RunRecorded, ToolCallRecorded
from warden.core.pricing import cost_usd as price_cost
from warden.core.rollout import Route
from warden.core.runs import (
    Handoff,
    IdempotencyRecord,
    ModelCallRecord,
    RunMode,
    RunRecord,
    RunStatus,
    ToolCallRecord,
    ToolCallStatus,
)
from warden.core.spec import AgentSpec, EscalationTrigger, RunBudget
from warden.errors import (
    ApprovalTimeout,
    BudgetExceeded,
    ConfigError,
    KillSwitchEngaged,
    PolicyDenied,
    RunError,
    RunRerouted,
    RunStateError,
    StoreUnavailable,
    ToolExecutionError,
    ToolInputError,
    ToolOutputError,
    WardenError,
)
from warden.policy.session import PolicySession
from warden.runtime.budget import Usage, check_daily
from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.handoff import build_handoff
from warden.runtime.killswitch import KillSwitch
from warden.runtime.recorder import Recorder
from warden.runtime.taint import CarriedTaint
from warden.runtime.tools import ToolRegistry

__all__ = ["Run", "RunHost"]

log = logging.getLogger("warden.run")
_HOST = socket.gethostname()


def _short(value: Any, limit: int = 120) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RunHost(Protocol):
    """What a run needs from the governor that started it (``Governor`` implements it)."""

    spec: AgentSpec
    spec_hash: str
    clock: Clock
    recorder: Recorder
    kill_switch: KillSwitch
    taint: CarriedTaint
    tools: ToolRegistry
    chain: Proceed
    raise_run_errors: bool

    def register(self, run: Run) -> None:
        """Track ``run`` as active (heartbeats)."""
        ...

    def unregister(self, run: Run) -> None:
        """Stop tracking ``run``."""
        ...

    def usage_today(self) -> tuple[int, float]:
        """``(runs, cost USD)`` of the agent since 00:00 UTC."""
        ...

    def notify_start(self, run: Run) -> None:
        """Tell hooks the run started."""
        ...

    def notify_end(self, run: Run) -> None:
        """Tell hooks the run ended."""
        ...

    def notify_model_call(self, run: Run, record: ModelCallRecord) -> None:
        """Tell hooks about a model call."""
        ...


class Run:
    """One governed run. Create it with ``Governor.run`` / ``Warden.run``.

    Attributes:
        id: Run id (``run_`` + 24 hex chars unless given).
        spec: The agent spec in force.
        mode: ``live`` or ``shadow``.
        mode_override: The mode was forced past the rollout (``dangerously_override_rollout``).
        status: ``running`` until the run ends, then its terminal state.
        output: What ``resolve`` recorded.
        reason: Why it ended as it did, in plain words.
        error: The exception that ended it, if any.
        usage: Steps, tool calls, tokens and cost so far.
        trail: One plain line per step, for handoffs and ``warden runs show``.
    """

    def __init__(
        self,
        governor: RunHost,
        *,
        input: Any = None,
        routing_key: str | None = None,
        mode: RunMode = RunMode.LIVE,
        run_id: str | None = None,
        route: Route | None = None,
        mode_override: bool = False,
    ) -> None:
        self.governor = governor
        self.mode_override = mode_override
        self.spec: AgentSpec = governor.spec
        self.id = run_id or f"run_{uuid.uuid4().hex[:24]}"
        self.input = input
        self.routing_key = routing_key
        self.mode = mode
        self.route = route
        self.status = RunStatus.RUNNING
        self.output: Any = None
        self.reason: str | None = None
        self.error: BaseException | None = None
        self.error_code: str | None = None
        self.last_error: str | None = None
        self.usage = Usage()
        self.limits: RunBudget = self.spec.spec.budgets.per_run
        self.policy = PolicySession.start(self.spec, self.id, input)
        self.state: RunState = self.policy.state
        self.kill_switch: KillSwitch = governor.kill_switch
        self.applied_writes: dict[str, IdempotencyRecord] = {}
        self.carried_taint: list[str] = []
        self.trail: list[str] = []
        self.handoff: Handoff | None = None
        """The packet this run was handed to people with, if any."""
        self.waiting_s = 0.0
        """Seconds spent waiting for approvals (not charged to ``max_wall_clock_s``)."""
        self._seq = 0
        self._started = False
        self._t0 = governor.clock.monotonic()
        self._started_at = governor.clock.now()
        self._cost_today_usd = 0.0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        """Seconds since the run started (injected clock)."""
        return self.governor.clock.monotonic() - self._t0

    @property
    def working_s(self) -> float:
        """Seconds since the run started, less the time it waited for people: what the
        ``max_wall_clock_s`` budget is charged."""
        return self.elapsed_s - self.waiting_s

    @property
    def spec_hash(self) -> str:
        """Content hash of the spec version this run runs under."""
        return self.governor.spec_hash

    @property
    def clock(self) -> Clock:
        """The governor's (injected) clock."""
        return self.governor.clock

    def __enter__(self) -> Run:
        if self._started:
            raise RunStateError(f"run {self.id} was already started")
        self._started = True
        gov = self.governor
        self._t0 = gov.clock.monotonic()
        self._started_at = gov.clock.now()
        gov.register(self)
        gov.recorder.emit(RunRecorded(run=self.record()))
        try:
            if self.mode is RunMode.FALLBACK:
                self._reroute()
            self.kill_switch.check()
            self.carried_taint = gov.taint.sources(self.routing_key)
            for source in self.carried_taint:  # earlier runs of this key read untrusted text
                self.state.note_untrusted(source)
            per_day = self.spec.spec.budgets.per_day
            if per_day.max_runs is not None or per_day.max_cost_usd is not None:
                runs_today, self._cost_today_usd = gov.usage_today()
                check_daily(per_day, runs_today - 1, self._cost_today_usd)  # minus this run
        except BaseException as exc:
            # Not runnable (kill switch, daily budget): record why, and raise so the body
            # does not run, whatever ``raise_run_errors`` says.
            self._end_with(exc)
            raise
        gov.notify_start(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self.status.is_terminal:
            if exc is not None and exc is not self.error:
                log.warning("run %s already %s when %r was raised", self.id, self.status, exc)
            return False
        if exc is None:
            self._finish(
                RunStatus.FAILED,
                "The agent's code finished without resolving or escalating the run.",
                "run.unfinished",
            )
            return False
        self._end_with(exc)
        return isinstance(exc, RunError) and not self.governor.raise_run_errors

    @property
    def fallback(self) -> str | None:
        """Where a ``fallback`` run's work goes: ``human_queue`` or an earlier version label."""
        if self.mode is not RunMode.FALLBACK:
            return None
        if self.route is not None and self.route.fallback is not None:
            return self.route.fallback
        plan = self.spec.spec.rollout
        return plan.fallback if plan is not None else "human_queue"

    def _reroute(self) -> None:
        """Raise what ends a fallback run: the kill switch, else ``RunRerouted``."""
        if self.route is None or self.route.killed:
            self.kill_switch.check()
        why = self.route.reason if self.route is not None else "the caller asked for fallback"
        raise RunRerouted(self.spec.name, self.fallback or "human_queue", why)

    # -- tool calls -----------------------------------------------------------------------

    def call(self, tool: str, /, **arguments: Any) -> Any:
        """Call ``tool`` with keyword ``arguments`` through every interceptor.

        Returns:
            The tool's validated result; a ``Proposal`` for a write tool in shadow mode.

        Raises:
            KillSwitchEngaged: The kill switch is on.
            PolicyDenied: The policy (or a person) said no.
            ApprovalTimeout: Nobody decided the approval in time.
            BudgetExceeded: A run budget would be crossed.
            ToolInputError: Invalid arguments (not executed).
            ToolOutputError: Invalid result.
            ToolExecutionError: The tool failed (after retries for retryable tools).
            StoreUnavailable: A write tool while the store is down (not executed).
            RunStateError: The run is not running.
        """
        return self.call_tool(tool, arguments)

    def call_tool(
        self, tool: str, arguments: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        """``call`` with the arguments as a dict and an optional explicit idempotency key."""
        self._ensure_running()
        gov = self.governor
        self._seq += 1
        ctx = CallContext(
            run=self,
            call=CallInput(
                agent=self.spec.name, run_id=self.id, tool=tool, arguments=arguments, seq=self._seq
            ),
            spec_tool=self.spec.tool(tool),
            tool=gov.tools.get(tool),
            idempotency_key=idempotency_key,
        )
        started_at = gov.clock.now()
        t0 = gov.clock.monotonic()
        error: BaseException | None = None
        try:
            result = gov.chain(ctx)
            if ctx.status in (ToolCallStatus.SUCCEEDED, ToolCallStatus.REUSED):
                self.policy.observed(tool, ctx.result_json)
            return result
        except BaseException as exc:
            error = exc
            if ctx.status is None:
                ctx.status = (
                    ToolCallStatus.KILLED
                    if isinstance(exc, KillSwitchEngaged)
                    else ToolCallStatus.NOT_RUN
                    if isinstance(exc, BudgetExceeded)
                    else ToolCallStatus.FAILED
                )
            self.last_error = f"{tool}: {exc}"
            if ctx.attempts > 0:  # the tool ran: its error may carry third-party text
                self.policy.failed(tool, str(exc))
            raise
        finally:
            self._record_tool_call(ctx, started_at, gov.clock.monotonic() - t0, error)

    def emit_progress(self, ctx: CallContext, *, waiting: bool) -> None:
        """Record a call still in progress (e.g. waiting for approval) so others can see it."""
        now = self.governor.clock.now()
        self.governor.recorder.emit(
            ToolCallRecorded(call=self._tool_record(ctx, now, 0.0, None, ended=False))
        )
        self.governor.recorder.emit(RunRecorded(run=self.record()))

    def _record_tool_call(
        self, ctx: CallContext, started_at: Any, latency_s: float, error: BaseException | None
    ) -> None:
        rec = self._tool_record(ctx, started_at, latency_s, error, ended=True)
        self.governor.recorder.emit(ToolCallRecorded(call=rec))
        verdict = (
            f"; {rec.decision.rule}: {rec.decision.reason}"
            if rec.decision and not rec.decision.allowed
            else ""
        )
        self.trail.append(
            f"{rec.seq}. {rec.tool}({_short(rec.arguments, 160)[1:-1]}) -> {rec.status.value}"
            + (f" after {rec.attempts} attempts" if rec.attempts > 1 else "")
            + (
                f" (waited {ctx.extra['waited_s']:.1f} s for a person)"
                if "waited_s" in ctx.extra
                else ""
            )
            + verdict
            + (f" ({rec.error})" if rec.error and not verdict else "")
        )

    def _tool_record(
        self,
        ctx: CallContext,
        started_at: Any,
        latency_s: float,
        error: BaseException | None,
        *,
        ended: bool,
    ) -> ToolCallRecord:
        arguments = (
            ctx.tool.arguments_as_json(ctx.call.arguments) if ctx.tool else ctx.call.arguments
        )
        return ToolCallRecord(
            run_id=self.id,
            seq=ctx.call.seq,
            tool=ctx.call.tool,
            arguments=arguments,
            args_hash=ctx.call.args_hash,
            status=ctx.status or ToolCallStatus.NOT_RUN,
            decision=ctx.decision,
            attempts=ctx.attempts,
            idempotency_key=ctx.idempotency_key,
            approval_id=ctx.approval_id,
            result=ctx.result_json,
            error=str(error) if error is not None else None,
            error_code=getattr(error, "code", None) if error is not None else None,
            started_at=started_at,
            ended_at=self.governor.clock.now() if ended else None,
            latency_s=latency_s,
        )

    # -- model calls ----------------------------------------------------------------------

    def record_model_call(
        self,
        *,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        latency_s: float = 0.0,
        cost_usd: float | None = None,
        provider: str = "",
        attempts: int = 1,
        error: str | None = None,
    ) -> ModelCallRecord:
        """Record a model call made by any framework, and charge it to the budgets.

        Args:
            model: Model name, e.g. ``gpt-4o-mini``.
            input_tokens: Prompt tokens.
            output_tokens: Completion tokens.
            latency_s: Seconds the call took.
            cost_usd: Cost in USD; computed from ``warden.core.pricing`` when omitted
                (None when the model is not in the price table).
            provider: e.g. ``openai`` (OTel ``gen_ai.provider.name``).
            attempts: 1 plus re-asks.
            error: Error text when the call failed.

        Returns:
            The stored record.

        Raises:
            KillSwitchEngaged: The kill switch is on (checked after recording: a call
                that was made and paid for is never lost from the record).
            BudgetExceeded: Steps, tokens or cost (per run or per day) are now over budget.
            RunStateError: The run is not running.
        """
        self._ensure_running()
        self._seq += 1
        cost = cost_usd if cost_usd is not None else price_cost(model, input_tokens, output_tokens)
        record = ModelCallRecord(
            run_id=self.id,
            seq=self._seq,
            model=model,
            provider=provider,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            latency_s=latency_s,
            attempts=attempts,
            error=error,
            at=self.governor.clock.now(),
        )
        usage = self.usage
        usage.steps += 1
        usage.input_tokens += input_tokens
        usage.output_tokens += output_tokens
        usage.cost_usd += cost or 0.0
        self.governor.recorder.emit(ModelCallRecorded(call=record))
        self.trail.append(
            f"{record.seq}. model {model}: {input_tokens} in / {output_tokens} out tokens"
            + (f", ${cost:.6f}" if cost is not None else "")
            + (f" (error: {error})" if error else "")
        )
        self.governor.notify_model_call(self, record)
        self.kill_switch.check()
        if self.limits.max_steps is not None and usage.steps > self.limits.max_steps:
            raise BudgetExceeded("per_run.max_steps", usage.steps, self.limits.max_steps)
        usage.check_spend(self.limits)
        self._check_daily_cost()
        return record

    def check_before_model_call(self) -> None:
        """Raise if a model call should not be sent now; adapters call this before paying.

        Checks the run is running, the kill switch, the per-run step, token, cost and
        wall-clock limits, and the per-day cost.

        Raises:
            RunStateError: The run is not running.
            KillSwitchEngaged: The kill switch is on.
            BudgetExceeded: A limit would be crossed by one more step or is already spent.
        """
        self._ensure_running()
        self.kill_switch.check()
        self.usage.check_before_step(self.limits, tool=False, elapsed_s=self.working_s)
        self._check_daily_cost()

    def _check_daily_cost(self) -> None:
        per_day = self.spec.spec.budgets.per_day.max_cost_usd
        spent = self._cost_today_usd + self.usage.cost_usd
        if per_day is not None and spent > per_day:
            raise BudgetExceeded("per_day.max_cost_usd", spent, per_day)

    # -- endings --------------------------------------------------------------------------

    def resolve(self, output: Any = None) -> None:
        """End the run ``resolved`` with ``output`` (any JSON-able value).

        Raises:
            RunStateError: The run already ended.
        """
        self._ensure_running()
        self.output = output
        self._finish(RunStatus.RESOLVED, "The agent completed the task.", None)

    def escalate(self, reason: str, *, trigger: str = "manual") -> None:
        """Hand the run to the spec's human queue with a handoff packet; end it ``escalated``.

        Raises:
            RunStateError: The run already ended.
            ConfigError: The spec has no ``escalation`` queue.
        """
        self._ensure_running()
        if self.spec.spec.escalation is None:
            raise ConfigError(f"agent {self.spec.name} has no escalation queue in its spec")
        self._escalate(trigger, reason)

    def check_confidence(self, confidence: float, *, output: Any = None) -> bool:
        """Escalate when ``confidence`` is below the spec's ``escalation.confidence_threshold``.

        Args:
            confidence: The model's confidence in [0, 1].
            output: The proposed answer, kept in the handoff's reason.

        Returns:
            True when confident enough to go on; False when the run was escalated.
        """
        esc = self.spec.spec.escalation
        if esc is None or EscalationTrigger.LOW_CONFIDENCE not in esc.on:
            return True
        if confidence >= esc.confidence_threshold:
            return True
        proposed = f" (proposed: {_short(output, 80)})" if output is not None else ""
        self._escalate(
            "low_confidence",
            f"The model's confidence {confidence:.2f} is below the threshold "
            f"{esc.confidence_threshold:.2f}{proposed}.",
        )
        return False

    def _escalate(self, trigger: str, reason: str) -> None:
        esc = self.spec.spec.escalation
        assert esc is not None
        self._hand_over(self._handoff(esc.queue, trigger, reason))
        self._finish(RunStatus.ESCALATED, f"Handed to {esc.queue}: {reason}", None)

    def _hand_over(self, handoff: Handoff) -> None:
        """Record the packet; hooks see it as ``handoff`` when the run ends."""
        self.handoff = handoff
        self.governor.recorder.emit(HandoffCreated(handoff=handoff))

    def _handoff(self, queue: str, trigger: str, reason: str) -> Handoff:
        return build_handoff(
            run_id=self.id,
            agent=self.spec.name,
            input=self.input,
            trail=self.trail,
            last_error=self.last_error,
            queue=queue,
            trigger=trigger,
            reason=reason,
            at=self.governor.clock.now(),
        )

    def _end_with(self, exc: BaseException) -> None:
        """Turn the exception that ended the run into its terminal state."""
        self.error = exc
        code = getattr(exc, "code", None)
        self.error_code = code if isinstance(code, str) else type(exc).__name__
        esc = self.spec.spec.escalation
        on = set(esc.on) if esc is not None else set[EscalationTrigger]()
        message = exc.message if isinstance(exc, WardenError) else f"{type(exc).__name__}: {exc}"
        self.last_error = self.last_error or message
        if isinstance(exc, KillSwitchEngaged):
            if esc is not None:
                self._hand_over(
                    self._handoff(
                        esc.queue,
                        "kill_switch",
                        f"The kill switch is on ({exc.reason}); a person must finish this.",
                    )
                )
            self._finish(RunStatus.KILLED, f"Stopped by the kill switch: {exc.reason}", exc.code)
            return
        if isinstance(exc, RunRerouted):
            self._rerouted(exc)
            return
        trigger, fallback = next(
            (value for klass, value in _TRIGGERS.items() if isinstance(exc, klass)),
            (None, RunStatus.FAILED),
        )
        if trigger is not None and trigger in on:
            self._escalate(trigger.value, message)
            self.error_code = code if isinstance(code, str) else None
            return
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            self._finish(
                RunStatus.INTERRUPTED,
                f"The process was stopped ({type(exc).__name__}).",
                "run.interrupted",
            )
            return
        self._finish(fallback, message, self.error_code)

    def _rerouted(self, exc: RunRerouted) -> None:
        esc = self.spec.spec.escalation
        if exc.route == "human_queue" and esc is not None:
            self._hand_over(self._handoff(esc.queue, "fallback", exc.reason))
            self._finish(RunStatus.ESCALATED, f"Handed to {esc.queue}: {exc.reason}", exc.code)
        else:
            self._finish(RunStatus.ESCALATED, f"Rerouted to {exc.route}: {exc.reason}", exc.code)

    def _finish(self, status: RunStatus, reason: str, error_code: str | None) -> None:
        if self.status.is_terminal:
            return
        self.status = status
        self.reason = reason
        if error_code is not None:
            self.error_code = error_code
        gov = self.governor
        gov.recorder.emit(RunRecorded(run=self.record()))
        gov.unregister(self)
        gov.notify_end(self)

    def _ensure_running(self) -> None:
        if not self._started:
            raise RunStateError("use the run as a context manager: `with wd.run(...) as run:`")
        if self.status.is_terminal:
            raise RunStateError(f"run {self.id} already ended ({self.status.value})")

    # -- records --------------------------------------------------------------------------

    def record(self) -> RunRecord:
        """The run as a ``RunRecord`` (its current state)."""
        now = self.governor.clock.now()
        ended = self.status.is_terminal
        return RunRecord(
            id=self.id,
            agent=self.spec.name,
            spec_hash=self.governor.spec_hash,
            spec_version=self.spec.metadata.version,
            mode=self.mode,
            mode_override=self.mode_override,
            status=self.status,
            routing_key=self.routing_key,
            input=self.input,
            output=self.output,
            reason=self.reason,
            error_code=self.error_code,
            started_at=self._started_at,
            ended_at=now if ended else None,
            heartbeat_at=now,
            steps=self.usage.steps,
            tool_calls=self.usage.tool_calls,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            cost_usd=self.usage.cost_usd,
            latency_s=self.elapsed_s if ended else None,
            host=_HOST,
            pid=os.getpid(),
        )


_TRIGGERS: dict[type[BaseException], tuple[EscalationTrigger | None, RunStatus]] = {
    PolicyDenied: (EscalationTrigger.POLICY_DENIED, RunStatus.BLOCKED),
    ApprovalTimeout: (EscalationTrigger.APPROVAL_TIMEOUT, RunStatus.FAILED),
    BudgetExceeded: (EscalationTrigger.BUDGET_EXCEEDED, RunStatus.FAILED),
    ToolExecutionError: (EscalationTrigger.TOOL_FAILED, RunStatus.FAILED),
    ToolInputError: (EscalationTrigger.TOOL_FAILED, RunStatus.FAILED),
    ToolOutputError: (EscalationTrigger.TOOL_FAILED, RunStatus.FAILED),
    StoreUnavailable: (None, RunStatus.FAILED),
}
"""Which escalation trigger an error maps to, and the state when that trigger is off."""
