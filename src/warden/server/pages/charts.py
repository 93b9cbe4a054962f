"""Daily charts as inline SVG, drawn on the server (no JavaScript, nothing fetched).

Each chart has a ``<title>`` for screen readers and a tooltip (``<title>``) on every point
or bar; colours come from the stylesheet through class names, so the page's content
security policy needs no inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "bar_chart", "rate_chart"]

_W, _H = 460, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 8, 10, 26
_PW, _PH = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM


@dataclass(frozen=True)
class Series:
    """One line on a rate chart.

    Attributes:
        label: Shown in the legend and tooltips.
        values: One value in [0, 1] per day, None where there is no data.
        css: Class name that colours it (``s-resolution``, ``s-escalation``, ``s-error``).
    """

    label: str
    values: Sequence[float | None]
    css: str


def _x(i: int, n: int) -> float:
    return _LEFT + (_PW * (i + 0.5) / n if n else 0)


def _y(value: float, top: float) -> float:
    return _TOP + _PH - (_PH * value / top if top else 0)


def _frame(title: str, ticks: list[tuple[float, str]], top: float, days: Sequence[str]) -> str:
    n = len(days)
    parts = [f"<title>{escape(title)}</title>"]
    for value, label in ticks:
        y = _y(value, top)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    step = 1 if n <= 8 else 2 if n <= 16 else max(1, n // 8)
    for i, day in enumerate(days):
        if (n - 1 - i) % step == 0:
            parts.append(
                f'<text class="tick" x="{_x(i, n):.1f}" y="{_H - 8}" text-anchor="middle">'
                f"{escape(day[5:])}</text>"
            )
    return "".join(parts)


def _svg(title: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">{body}</svg>'
    )


def rate_chart(title: str, days: Sequence[str], series: Sequence[Series]) -> Markup:
    """Lines of daily rates on a 0-100 % axis; a day without data leaves a gap."""
    n = len(days)
    ticks = [(v, f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    parts = [_frame(title, ticks, 1.0, days)]
    for s in series:
        run: list[str] = []
        segments: list[list[str]] = [run]
        for i, value in enumerate(s.values):
            if value is None:
                run = []
                segments.append(run)
                continue
            run.append(f"{_x(i, n):.1f},{_y(value, 1.0):.1f}")
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line {s.css}" points="{" ".join(seg)}"/>')
        for i, value in enumerate(s.values):
            if value is not None:
                parts.append(
                    f'<circle class="dot {s.css}" cx="{_x(i, n):.1f}" cy="{_y(value, 1.0):.1f}" '
                    f'r="3"><title>{escape(days[i])}: {escape(s.label)} {value:.0%}</title></circle>'
                )
    return _svg(title, "".join(parts))


def _nice(top: float, whole: bool) -> float:
    """The smallest of 1, 2, (2.5,) 5 times a power of ten that is at least ``top``; with
    ``whole``, an even whole number (so the middle gridline is a whole number too)."""
    if whole:
        top = max(2.0, float(math.ceil(top)))
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    factors = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    nice = next(f * magnitude for f in factors if f * magnitude >= top * (1 - 1e-9))
    return nice + 1 if whole and nice % 2 else nice


def bar_chart(
    title: str,
    days: Sequence[str],
    values: Sequence[float],
    fmt: Callable[[float], str],
    css: str,
    *,
    whole: bool = False,
    empty: str = "nothing recorded",
) -> Markup:
    """Daily bars (runs, cost) on an axis from zero to a round number above the largest
    (``whole``: counts, so the gridlines fall on whole numbers; ``empty``: the text shown
    when every day is zero)."""
    n = len(days)
    top = _nice(max(values, default=0.0), whole)
    factors = (0.0, 0.5, 1.0) if any(values) else (0.0,)
    ticks = [(top * f, fmt(top * f)) for f in factors]
    parts = [_frame(title, ticks, top, days)]
    width = max(2.0, _PW / max(n, 1) * 0.6)
    if not any(values):
        parts.append(
            f'<text class="none" x="{_LEFT + _PW / 2:.1f}" y="{_TOP + _PH / 2:.1f}" '
            f'text-anchor="middle">{escape(empty)}</text>'
        )
    for i, value in enumerate(values):
        y = _y(value, top)
        parts.append(
            f'<rect class="bar {css}" x="{_x(i, n) - width / 2:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{_TOP + _PH - y:.1f}">'
            f"<title>{escape(days[i])}: {escape(fmt(value))}</title></rect>"
        )
    return _svg(title, "".join(parts))
