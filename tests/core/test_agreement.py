"""Shadow agreement: comparing a person's action with the agent's, and the Wilson interval."""

from __future__ import annotations

import pytest

from warden.core.agreement import (
    AgentAction,
    AgreementRate,
    agrees,
    normalise_actions,
    wilson_interval,
)


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, example 81/263: 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # 0 of 10: the interval is not [0, 0] as the normal approximation would claim.
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_narrows_with_more_samples() -> None:
    few = wilson_interval(9, 10)
    many = wilson_interval(900, 1000)
    assert few[1] - few[0] > many[1] - many[0]
    assert many[0] < 0.9 < many[1]


def test_wilson_interval_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)


def test_agreement_rate_of_counts() -> None:
    rate = AgreementRate.of("h", "1.0", 170, 200)
    assert rate.rate == pytest.approx(0.85)
    assert rate.low < 0.85 < rate.high
    assert AgreementRate.of("h", "", 0, 0).rate is None


ROUTE = AgentAction(tool="route_ticket", arguments={"ticket_id": "t-1", "queue": "card_arrival"})


def test_a_person_may_give_only_the_arguments_that_matter() -> None:
    human = normalise_actions({"tool": "route_ticket", "arguments": {"queue": "card_arrival"}})
    assert agrees(human, [ROUTE])
    other = normalise_actions(
        {"tool": "route_ticket", "arguments": {"queue": "lost_or_stolen_card"}}
    )
    assert not agrees(other, [ROUTE])
    assert agrees(normalise_actions("route_ticket"), [ROUTE])


def test_doing_more_or_less_than_the_person_disagrees() -> None:
    assert not agrees([], [ROUTE])
    assert not agrees(normalise_actions(["route_ticket", "route_ticket"]), [ROUTE])
    assert agrees(normalise_actions(None), [])


def test_each_human_action_needs_its_own_match() -> None:
    a = AgentAction(tool="tag", arguments={"tag": "a"})
    b = AgentAction(tool="tag", arguments={"tag": "b"})
    assert agrees(normalise_actions([{"tool": "tag", "arguments": {"tag": "b"}}, "tag"]), [a, b])
    assert not agrees(
        normalise_actions(["tag", {"tool": "tag", "arguments": {"tag": "a"}}]),
        [a, a.model_copy(update={"tool": "x"})],
    )


def test_normalise_refuses_what_is_not_an_action() -> None:
    with pytest.raises(ValueError, match="tool"):
        normalise_actions({"arguments": {}})
