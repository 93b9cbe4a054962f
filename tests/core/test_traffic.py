"""The sticky traffic split: proportions, stickiness, and raising only adds keys."""

from __future__ import annotations

import itertools
import math

import pytest

from warden.core.traffic import BUCKETS, bucket, in_slice

KEYS = [f"customer-{i}" for i in range(10_000)]


@pytest.mark.parametrize("share", [0.01, 0.05, 0.10, 0.25, 0.5, 0.9])
def test_proportions_for_10000_keys_are_within_tolerance(share: float) -> None:
    inside = sum(in_slice("ticket-router", k, share) for k in KEYS)
    sigma = math.sqrt(share * (1 - share) / len(KEYS))
    assert abs(inside / len(KEYS) - share) < 4 * sigma, inside


def test_the_same_key_always_gets_the_same_answer() -> None:
    assert [bucket("a", k) for k in KEYS[:500]] == [bucket("a", k) for k in KEYS[:500]]
    assert bucket("a", "customer-1") == 8394  # stable across processes and releases
    assert all(0 <= bucket("a", k) < BUCKETS for k in KEYS)


def test_raising_the_share_only_adds_keys() -> None:
    shares = [0.0, 0.01, 0.05, 0.10, 0.2, 0.5, 0.75, 1.0]
    slices = [{k for k in KEYS if in_slice("ticket-router", k, s)} for s in shares]
    for smaller, larger in itertools.pairwise(slices):
        assert smaller <= larger
    assert slices[0] == set()
    assert slices[-1] == set(KEYS)


def test_each_agent_gets_its_own_slice() -> None:
    a = {k for k in KEYS if in_slice("agent-a", k, 0.1)}
    b = {k for k in KEYS if in_slice("agent-b", k, 0.1)}
    # independent slices overlap by about 10 % of 10 %, not completely
    assert len(a & b) < 0.3 * len(a)


def test_share_outside_0_1_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        in_slice("a", "k", 1.5)
