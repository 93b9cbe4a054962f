"""Eval results: stored with an audit entry; the readiness review reads the newest one."""

from __future__ import annotations

from datetime import timedelta

from warden.control.gates import readiness_facts
from warden.core.clock import FakeClock
from warden.core.evals import EvalResult
from warden.store import SqlStore


def _result(spec_hash: str, at, *, passed: bool, cases: int = 60) -> EvalResult:
    return EvalResult(
        id=f"evr_{spec_hash[:4]}_{passed}_{at:%H%M}",
        agent="test-agent",
        spec_hash=spec_hash,
        set_name="s",
        set_hash="h" * 64,
        cases=cases,
        passed_cases=cases if passed else 0,
        pass_rate=1.0 if passed else 0.0,
        floor=0.8,
        passed=passed,
        actor="alice",
        at=at,
    )


def test_readiness_reads_the_newest_result_of_the_version(
    store: SqlStore, clock: FakeClock, spec_factory
) -> None:
    spec = spec_factory()
    h = spec.content_hash()
    assert readiness_facts(store, spec).eval_cases is None  # none: the item fails
    store.record_eval_result(_result(h, clock.now(), passed=False))
    store.record_eval_result(_result(h, clock.now() + timedelta(minutes=5), passed=True))
    store.record_eval_result(_result("0" * 64, clock.now() + timedelta(minutes=9), passed=False))
    facts = readiness_facts(store, spec)
    assert (facts.eval_cases, facts.eval_passed) == (60, True)
    latest = store.latest_eval_result("test-agent")
    assert latest is not None and latest.spec_hash == "0" * 64
    assert [e.action for e in store.list_audit(agent="test-agent")].count("eval.recorded") == 3
    assert store.verify_audit().intact
