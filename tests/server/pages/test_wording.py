"""``pages/wording.py``: numbers, money, durations, audit actions and checklist names in
plain words."""

from __future__ import annotations

from warden.server.pages import wording


def test_numbers_money_and_durations() -> None:
    assert wording.pct(0.123) == "12 %" and wording.pct(None) == "—"
    assert wording.usd(0) == "$0" and wording.usd(None) == "—"
    assert wording.usd(1234.5) == "$1,234.50" and wording.usd(0.0042) == "$0.0042"
    assert wording.seconds(0.25) == "250 ms" and wording.seconds(90) == "90.0 s"
    assert wording.seconds(600) == "10 min" and wording.seconds(7200) == "2.0 h"


def test_actions_headings_and_values_in_words() -> None:
    assert wording.action_words("kill_switch.engaged") == "Kill switch engaged"
    assert wording.action_words("rollout.advanced") == "Rollout: advanced"
    assert wording.heading("kill_switch_drill") == "The kill switch was drilled recently"
    assert wording.heading("slo:latency_p95") == "Objective met: latency p95"
    assert wording.heading("days_in_shadow") == "Days in shadow"
    assert wording.describe_value({"a": [1, True], "b": None}) == "a: 1, yes, b: —"


def test_every_readiness_item_has_a_heading(spec_factory) -> None:
    from datetime import UTC, datetime

    from warden.core.readiness import ReadinessFacts, review
    from warden.server.pages.wording import READINESS

    items = review(spec_factory({}), ReadinessFacts(), datetime.now(UTC)).items
    assert {i.name for i in items} == set(READINESS)
