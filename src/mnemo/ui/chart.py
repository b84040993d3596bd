"""Geometry of the stats page's bar chart, drawn as inline SVG by its template."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 280
LEFT = 48  # room for the axis labels
BOTTOM = 36  # room for the bar labels
TOP = 16
_ROUND_STEPS = (1, 2, 2.5, 3, 4, 5, 6, 8, 10)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    css_class: str


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]


def tick_step(value: int, gaps: int = 4) -> int:
    """The smallest whole, round step (1, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) whose
    `gaps` steps reach value."""
    needed = max(value / gaps, 1.0)
    power = 10 ** math.floor(math.log10(needed))
    steps = (step * power for step in _ROUND_STEPS)
    return int(next(s for s in steps if s >= needed and float(s).is_integer()))


def bar_chart(counts: Mapping[str, int]) -> BarChart:
    """Vertical bars, one per count, under a y axis with five gridlines from 0 to a round top."""
    step = tick_step(max(counts.values(), default=0))
    top_value = 4 * step
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = (WIDTH - LEFT) / max(len(counts), 1)
    bar_width = slot * 0.6
    bars = []
    for i, (label, value) in enumerate(counts.items()):
        height = plot_height * value / top_value
        x = LEFT + i * slot + (slot - bar_width) / 2
        bars.append(Bar(label, value, x, baseline - height, bar_width, height, f"bar-{i % 6}"))
    ticks = [Tick(step * k, baseline - plot_height * k / 4) for k in range(5)]
    return BarChart(WIDTH, HEIGHT, LEFT, baseline, bars, ticks)
