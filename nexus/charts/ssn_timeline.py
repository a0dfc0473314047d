"""The SSN (a score out of 100, not a percentage) test after test, over the level bands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from markupsafe import Markup

from nexus import fr
from nexus.charts.svg import (
    LEVELS,
    PAD,
    WIDTH,
    chart_id,
    clamp,
    level_of,
    px,
    score,
    shell,
    svg_text,
    text_width,
)


def _day(value: date) -> date:
    return value.astimezone(fr.TUNIS).date() if isinstance(value, datetime) else value


def timeline(
    points: list[tuple[date, float]],
    title: str,
    levels: Sequence[tuple[float, str]] = LEVELS,
    floor_label: str = "Prioritaire",
) -> Markup:
    """The SSN (0–100) test after test, over the level bands; each point prints its value and its date
    (French short dates). Tests are evenly spaced, in date order. No point: an empty Markup."""
    if not points:
        return Markup("")
    ordered = [
        (when, float(value))
        for _, when, value in sorted((_day(when), when, value) for when, value in points)
    ]  # fmt: skip
    uid = chart_id("timeline", title, ordered, tuple(levels))
    thresholds = sorted(levels, reverse=True)
    dates = [fr.short_date(when) for when, _ in ordered]
    described = " ; ".join(
        f"{d} : {score(v)} ({level_of(v, thresholds, floor_label)})"
        for d, (_, v) in zip(dates, ordered, strict=True)
    )
    last = ordered[-1][1]
    count = len(ordered)
    desc = (
        f"Score standardisé (SSN, sur 100) de {fr.plural(count, 'test')}"
        + (f", du {dates[0]} au {dates[-1]}" if count > 1 else f", le {dates[0]}")
        + f" : {described}. Dernier SSN : {score(last)}, niveau {level_of(last, thresholds, floor_label)}."
    )

    band_room = max(text_width(label, 9.5) for _, label in [*thresholds, (0, floor_label)]) + 8
    left, right = 26, WIDTH - PAD - band_room
    top, bottom = 22, 200
    height = bottom + 34 + PAD

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * clamp(value) / 100

    body: list[str] = []
    # Level bands (alternating tints, a dashed line at each threshold, their names on the right).
    edges = [100, *[t for t, _ in thresholds], 0]
    names = [label for _, label in thresholds] + [floor_label]
    body.append('<g class="chart-bands">')
    for i, (high, low, name) in enumerate(zip(edges, edges[1:], names, strict=False)):
        y_high, y_low = y_of(high), y_of(low)
        body.append(
            f'<rect x="{left}" y="{px(y_high)}" width="{px(right - left)}" height="{px(y_low - y_high)}" '
            f'fill="currentColor" fill-opacity="{".07" if i % 2 == 0 else ".025"}"/>'
        )
        if y_low - y_high >= 10:
            body.append(svg_text(right + 5, (y_high + y_low) / 2 + 3.5, name, size=9.5, cls="chart-muted"))
    body.append("</g>")
    body.append('<g class="chart-grid" fill="none" stroke="currentColor" stroke-opacity=".35">')
    for threshold, _ in thresholds:
        body.append(
            f'<line x1="{left}" y1="{px(y_of(threshold))}" x2="{px(right)}" y2="{px(y_of(threshold))}" '
            'stroke-dasharray="3 3"/>'
        )
    body.append(f'<rect x="{left}" y="{top}" width="{px(right - left)}" height="{bottom - top}"/>')
    body.append("</g>")
    body.append(svg_text(PAD, 12, "SSN", size=10, bold=True, cls="chart-muted"))
    for tick in sorted({0, 100, *[t for t, _ in thresholds]}):
        body.append(
            svg_text(left - 4, y_of(tick) + 3.5, str(int(tick)), size=9, anchor="end", cls="chart-muted")
        )

    inset = 18
    span = right - left - 2 * inset
    xs = (
        [left + (right - left) / 2]
        if count == 1
        else [left + inset + span * i / (count - 1) for i in range(count)]
    )
    spacing = span / (count - 1) if count > 1 else span
    body.append('<g class="chart-series">')
    if count > 1:
        path = " ".join(f"{px(x)},{px(y_of(v))}" for x, (_, v) in zip(xs, ordered, strict=True))
        body.append(
            f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    for x, (_, v) in zip(xs, ordered, strict=True):
        body.append(
            f'<circle cx="{px(x)}" cy="{px(y_of(v))}" r="4" stroke="#fff" stroke-width="1.5" '
            'class="chart-dot"/>'
        )
    body.append("</g>")
    body.append('<g class="chart-values">')
    # Above each point; from eight tests on, the values stand upright so that they never overlap.
    upright = spacing < 34
    for x, (_, v) in zip(xs, ordered, strict=True):
        y = y_of(v)
        if not upright:
            body.append(svg_text(x, y - 8, score(v), size=10.5, anchor="middle", bold=True, halo=True))
            continue
        below = v > 75
        tx, ty = x + 3.5, y + (8 if below else -8)
        body.append(
            svg_text(tx, ty, score(v), size=10, anchor="end" if below else "start", bold=True, halo=True,
                  extra=f'transform="rotate(-90 {px(tx)} {px(ty)})"')
        )  # fmt: skip
    body.append("</g>")

    # Dates under the axis: 'jj/mm' and the year when it changes; thinned out when crowded.
    body.append('<g class="chart-dates">')
    label_width = text_width("00/00", 9.5) + 6
    chosen: list[int] = []
    for i, x in enumerate(xs):
        if chosen and x - xs[chosen[-1]] < label_width:
            if i != count - 1:
                continue
            chosen.pop()  # the last date wins over its neighbour
        chosen.append(i)
    shown_year: str | None = None
    for i in chosen:
        day_month, year = dates[i][:5], dates[i][6:]
        body.append(svg_text(xs[i], bottom + 13, day_month, size=9.5, anchor="middle", cls="chart-muted"))
        if year != shown_year:
            body.append(svg_text(xs[i], bottom + 25, year, size=9, anchor="middle", cls="chart-muted"))
            shown_year = year
    body.append("</g>")
    return shell("timeline", uid, height, title, desc, body)
