"""A student's progress over time: the Nexus Index and each subject's SSN on one 0–100 scale.

Readable without colour: each series has its own marker (circle, square, triangle, diamond) and
line pattern, a direct label at its last point, and the legend repeats marker and pattern. The
page puts the same numbers in a table (`table_of`) inside a <details>.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup

from nexus import fr
from nexus.charts.svg import PAD, WIDTH, chart_id, clamp, px, score, shell, svg_text, text_width

DASHES = ("", "6 3", "2 3", "8 3 2 3")  # solid, dashed, dotted, dash-dot
MARKERS = ("circle", "square", "triangle", "diamond")
LABEL_SIZE = 12
LABEL_GAP = 14  # minimum vertical distance between two direct labels


@dataclass(frozen=True)
class Series:
    """One line of the chart: a name ("Indice Nexus", "SSN Mathématiques") and its points."""

    label: str
    short: str  # the direct label at its last point ("Indice", "Maths")
    points: Sequence[tuple[date, float]]


def _day(value: date) -> date:
    return value.astimezone(fr.TUNIS).date() if isinstance(value, datetime) else value


def marker(kind: str, x: float, y: float, size: float = 4) -> str:
    """A marker shape centred on (x, y), filled, with a white outline."""
    outline = 'stroke="#fff" stroke-width="1.2"'
    if kind == "square":
        side = px(2 * size)
        return f'<rect x="{px(x - size)}" y="{px(y - size)}" width="{side}" height="{side}" {outline}/>'
    if kind == "triangle":
        s = size * 1.2
        pts = f"{px(x)},{px(y - s)} {px(x + s)},{px(y + s * 0.8)} {px(x - s)},{px(y + s * 0.8)}"
        return f'<polygon points="{pts}" {outline}/>'
    if kind == "diamond":
        s = size * 1.25
        pts = f"{px(x)},{px(y - s)} {px(x + s)},{px(y)} {px(x)},{px(y + s)} {px(x - s)},{px(y)}"
        return f'<polygon points="{pts}" {outline}/>'
    return f'<circle cx="{px(x)}" cy="{px(y)}" r="{px(size)}" {outline}/>'


def _spread(wanted: list[float], low: float, high: float) -> list[float]:
    """Label positions as close as possible to `wanted`, at least LABEL_GAP apart, within bounds."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [0.0] * len(wanted)
    last = low - LABEL_GAP
    for i in order:
        placed[i] = max(wanted[i], last + LABEL_GAP)
        last = placed[i]
    overflow = last - high
    if overflow > 0:  # pushed past the bottom: shift everything up, keeping the gaps
        for i in order:
            placed[i] -= overflow
    return placed


def chart(series: Sequence[Series], title: str) -> Markup:
    """The progress chart; an empty Markup when no series has a point."""
    shown = [
        Series(s.label, s.short, sorted((_day(d), float(v)) for d, v in s.points)) for s in series if s.points
    ][: len(MARKERS)]
    if not shown:
        return Markup("")
    uid = chart_id("progress", title, [(s.label, tuple(s.points)) for s in shown])
    days = sorted({d for s in shown for d, _ in s.points})
    first, last = days[0], days[-1]
    desc = (
        f"Évolution du {fr.short_date(first)} au {fr.short_date(last)}, sur 100. "
        if first != last
        else f"Mesures du {fr.short_date(first)}, sur 100. "
    ) + " ".join(
        f"{s.label} : " + ", ".join(f"{score(v)} le {fr.short_date(d)}" for d, v in s.points) + "."
        for s in shown
    )

    label_room = max(text_width(f"{s.short} {score(s.points[-1][1])}", LABEL_SIZE, bold=True) for s in shown)
    left, right = 30, WIDTH - PAD - label_room - 8
    top, bottom = 12, 170

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * clamp(value) / 100

    span = (last - first).days

    def x_of(day: date) -> float:
        return (left + right) / 2 if span == 0 else left + 8 + (right - left - 16) * (day - first).days / span

    body: list[str] = ['<g class="chart-grid" fill="none" stroke="currentColor" stroke-opacity=".3">']
    for tick in (0, 25, 50, 75, 100):
        dash = "" if tick in (0, 100) else ' stroke-dasharray="2 3"'
        body.append(f'<line x1="{left}" y1="{px(y_of(tick))}" x2="{px(right)}" y2="{px(y_of(tick))}"{dash}/>')
    body.append("</g>")
    for tick in (0, 25, 50, 75, 100):
        body.append(svg_text(left - 4, y_of(tick) + 4, str(tick), size=10.5, anchor="end", cls="chart-muted"))

    wanted: list[float] = []
    for i, s in enumerate(shown):
        dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
        body.append(f'<g class="chart-series chart-series-{i}" fill="currentColor">')
        coords = [(x_of(d), y_of(v)) for d, v in s.points]
        if len(coords) > 1:
            path = " ".join(f"{px(x)},{px(y)}" for x, y in coords)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2"'
                f' stroke-linejoin="round"{dash}/>'
            )
        body += [marker(MARKERS[i], x, y) for x, y in coords]
        body.append("</g>")
        wanted.append(coords[-1][1] + 3.5)
    placed = _spread(wanted, top + 4, bottom + 3.5)
    body.append('<g class="chart-values">')
    for i, (s, y) in enumerate(zip(shown, placed, strict=True)):
        x = x_of(s.points[-1][0]) + 8 if len(days) > 1 else right + 8
        x = max(x, right + 6)
        body.append(
            svg_text(x, y, f"{s.short} {score(s.points[-1][1])}", size=LABEL_SIZE, bold=True,
                     cls=f"chart-label-{i}")
        )  # fmt: skip
    body.append("</g>")

    # Dates under the axis: the first and the last (and the middle one when there is room).
    body.append('<g class="chart-dates">')
    for d in dict.fromkeys([first, last]):
        anchor = "start" if d == first and span else ("end" if span else "middle")
        when = fr.short_date(d)
        body.append(svg_text(x_of(d), bottom + 15, when, size=10.5, anchor=anchor, cls="chart-muted"))
    body.append("</g>")

    # Legend: marker and line pattern of each series, wrapped on as many rows as needed.
    legend_top = bottom + 34
    x, y = float(PAD), legend_top
    body.append('<g class="chart-legend">')
    for i, s in enumerate(shown):
        width = 30 + text_width(s.label, 11.5)
        if x + width > WIDTH - PAD and x > PAD:
            x, y = float(PAD), y + 18
        dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
        body.append(
            f'<g class="chart-series-{i}" fill="currentColor"><line x1="{px(x)}" y1="{px(y)}" '
            f'x2="{px(x + 22)}" y2="{px(y)}" stroke="currentColor" stroke-width="2"{dash}/>'
            f"{marker(MARKERS[i], x + 11, y, 3.5)}</g>"
        )
        body.append(svg_text(x + 27, y + 4, s.label, size=11.5))
        x += width + 10
    body.append("</g>")
    return shell("progress", uid, y + 8 + PAD, title, desc, body)


def table_of(series: Sequence[Series]) -> tuple[list[str], list[tuple[date, list[str]]]]:
    """The chart's numbers as a table: one column per series, one row per day ("—" if none)."""
    shown = [s for s in series if s.points][: len(MARKERS)]
    values = [{_day(d): v for d, v in s.points} for s in shown]
    days = sorted({d for v in values for d in v})
    rows = [(d, [score(v[d]) if d in v else "—" for v in values]) for d in days]
    return [s.label for s in shown], rows
