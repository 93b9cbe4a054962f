"""``pages/charts.py``: inline SVG with gridlines on round numbers, gaps where a day has no
data, and every text escaped."""

from __future__ import annotations

from warden.server.pages.charts import Series, bar_chart, rate_chart

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]


def test_bar_chart_counts_on_whole_gridlines() -> None:
    svg = bar_chart(
        "Runs <per day>", DAYS, [0.0, 3.0, 1.0, 2.0], lambda v: f"{v:.0f}", "s-runs", whole=True
    )
    assert svg.startswith('<svg class="chart"') and 'aria-label="Runs &lt;per day&gt;"' in svg
    assert [f">{n}</text>" in svg for n in (0, 3, 6)] == [True, True, True]  # 0, middle, top
    assert svg.count('<rect class="bar s-runs"') == 4
    assert "<title>2026-03-02: 3</title>" in svg
    empty = bar_chart("Cost", DAYS, [0.0] * 4, str, "s-cost", empty="no model cost recorded")
    assert "no model cost recorded" in empty


def test_rate_chart_leaves_a_gap_for_a_day_without_data() -> None:
    svg = rate_chart("Rates", DAYS, [Series("resolved", [0.5, None, 0.2, 0.3], "s-resolution")])
    assert svg.count("<polyline") == 1  # the first day alone is a dot, not a line
    assert svg.count('<circle class="dot s-resolution"') == 3
    assert "<title>2026-03-03: resolved 20%</title>" in svg
