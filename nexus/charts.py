"""Server-rendered SVG charts for the positioning tests' results: radar, skill heat-map, SSN timeline.

Pure functions (no Flask, no database) returning `markupsafe.Markup`, to be put beside the table that
holds the same numbers (DESIGN.md: "readable without colour, with their table beside them").

Every chart is an `<svg role="img">` with a `<title>` and a French `<desc>` that states its data, a
viewBox 360 units wide (one unit = one pixel on a 360 px phone) and `width="100%"`; the stylesheet
caps its width on large screens (`.chart` in static/css/app.css). No script, no `style` attribute
(the CSP forbids them), no external font: presentation attributes give a readable default in
`currentColor`, classes let the stylesheet add the brand colour. Every value is printed as text,
so nothing relies on colour; every label is escaped.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from nexus import fr

WIDTH = 360
PAD = 6
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
NOT_MEASURED = "non évalué"
LEVELS = ((85, "Excellence"), (70, "Très solide"), (55, "Stable"), (40, "Fragile"))

# --------------------------------------------------------------------------------------------------
# Text measurement: Helvetica's widths (1/1000 em), which Arial, Roboto and Liberation Sans follow
# closely; SAFETY covers wider system fonts (DejaVu Sans) so that a label never leaves the viewBox.
_WIDTHS = {
    **dict.fromkeys("abdeghnopqu0123456789", 556),
    **dict.fromkeys("cksvxyz", 500),
    **dict.fromkeys("fjilt", 250),
    "r": 333,
    "m": 833,
    "w": 722,
    **dict.fromkeys("ABEKPSVXY", 667),
    **dict.fromkeys("CDHNRU", 722),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("FTZ", 611),
    "I": 278,
    "J": 500,
    "L": 556,
    "M": 833,
    "W": 944,
    **dict.fromkeys(" !,.:;'/|", 278),
    **dict.fromkeys("()-«»", 333),
    "—": 1000,
    "–": 556,
    "…": 1000,
}
SAFETY = 1.2


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper estimate of a text's rendered width in user units."""
    total = 0
    for char in text:
        base = unicodedata.normalize("NFD", char)[0]
        total += _WIDTHS.get(base, 600)
    return total / 1000 * size * SAFETY * (1.14 if bold else 1)


def wrap(text: str, max_width: float, size: float, max_lines: int = 4, bold: bool = False) -> list[str]:
    """Greedy word wrap within max_width; a word too long is cut with a hyphen; the last line kept
    ends with '…' when the text needs more than max_lines."""
    lines: list[str] = []
    current = ""
    for word in " ".join(str(text).split()).split(" "):
        candidate = f"{current} {word}".strip()
        if text_width(candidate, size, bold) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size, bold) > max_width and len(word) > 2:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut] + "-", size, bold) > max_width:
                cut -= 1
            lines.append(word[:cut] + "-")
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size, bold) > max_width:
            last = last[:-1].rstrip()
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


# --------------------------------------------------------------------------------------------------
# SVG building blocks


def _n(value: float) -> str:
    """A coordinate, to the tenth."""
    text = f"{value:.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def _value(value: float | int) -> str:
    """A score as French reads it: 62, 57,3."""
    if isinstance(value, int):
        return str(value)
    return fr.number(Decimal(repr(float(value))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _uid(kind: str, *data: object) -> str:
    """A stable id prefix per chart (the same data gives the same ids, harmless on one page)."""
    return f"{kind}-{hashlib.sha1(repr(data).encode()).hexdigest()[:8]}"  # noqa: S324 - not security


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 11,
    anchor: str = "start",
    cls: str = "",
    bold: bool = False,
    halo: bool = False,
    extra: str = "",
) -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'font-size="{_n(size)}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if bold:
        attrs.append('font-weight="700"')
    if "chart-muted" in cls:
        attrs.append('fill-opacity=".75"')
    if halo:
        cls = f"{cls} chart-halo".strip()
        attrs.append('stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"')
    if cls:
        attrs.append(f'class="{cls}"')
    if extra:
        attrs.append(extra)
    return f"<text {' '.join(attrs)}>{escape(text)}</text>"


def _svg(kind: str, uid: str, height: float, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(  # noqa: S704 - every text in body went through escape() (see _text)
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {WIDTH} {_n(math.ceil(height))}" width="100%" '
        f'font-family="{FONT}" fill="currentColor">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _hatch(uid: str) -> str:
    """The pattern of a value not measured (reads without colour)."""
    return (
        f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="currentColor" '
        'stroke-opacity=".22" stroke-width="1.5"/></pattern></defs>'
    )


def _clamp(value: float, low: float = 0, high: float = 100) -> float:
    return max(low, min(high, value))


def level_of(value: float, levels: Sequence[tuple[float, str]] = LEVELS, floor: str = "Prioritaire") -> str:
    """The label of the first level whose threshold the value reaches ('Prioritaire' below all)."""
    for threshold, label in sorted(levels, reverse=True):
        if value >= threshold:
            return label
    return floor


# --------------------------------------------------------------------------------------------------
# Radar: mastery per domain


def radar(domains: list[tuple[str, int | None]], title: str) -> Markup:
    """Mastery (0–100) per domain on 3 to 8 axes; None is a gap labelled 'non évalué'.

    Fewer than three domains draw horizontal bars instead (a radar needs three axes); none, nothing.
    """
    domains = [(str(label), None if value is None else round(_clamp(value))) for label, value in domains]
    if not domains:
        return Markup("")
    uid = _uid("radar", title, domains)
    desc = (
        "Maîtrise par domaine, sur 100 : "
        + " ; ".join(f"{label} : {NOT_MEASURED if value is None else value}" for label, value in domains)
        + "."
    )
    if len(domains) < 3:
        return _bars(uid, domains, title, desc)

    count = len(domains)
    size, line_height = 11, 13
    angles = [-math.pi / 2 + 2 * math.pi * i / count for i in range(count)]
    # As large as the side labels allow: their longest word must fit between the ring and the edge.
    side_words = [
        text_width(word, size)
        for (label, _), angle in zip(domains, angles, strict=True)
        if abs(math.cos(angle)) > 0.25
        for word in label.split()
    ]
    widest = max([text_width(NOT_MEASURED, size), *side_words])
    radius = _clamp(WIDTH / 2 - PAD - 14 - widest, 70, 96)
    cx = WIDTH / 2

    # Axis labels first (with the centre at y = 0): their extent decides the viewBox's height.
    labels: list[tuple[list[str], float, float, str, bool]] = []  # lines, x, y of first baseline
    top, bottom = -radius, radius
    for (label, value), angle in zip(domains, angles, strict=True):
        cos, sin = math.cos(angle), math.sin(angle)
        ax, ay = cx + (radius + 12) * cos, (radius + 12) * sin
        if cos > 0.25:
            anchor, room = "start", WIDTH - PAD - ax
        elif cos < -0.25:
            anchor, room = "end", ax - PAD
        else:
            anchor, room = "middle", min(2 * (ax - PAD), 2 * (WIDTH - PAD - ax), 170)
        lines = wrap(label, room, size, max_lines=4)
        missing = value is None
        block = line_height * (len(lines) + missing)
        if sin < -0.25:
            first = ay - block + size * 0.8
        elif sin > 0.25:
            first = ay + size * 0.8
        else:
            first = ay - block / 2 + size * 0.8
        labels.append((lines, ax, first, anchor, missing))
        top = min(top, first - size)
        bottom = max(bottom, first + block - line_height + 4)
    cy = PAD - top
    height = cy + bottom + PAD

    body: list[str] = []
    # Guides at 25, 50, 75, 100 and the axes.
    body.append('<g class="chart-grid" fill="none" stroke="currentColor" stroke-opacity=".3">')
    for step in (25, 50, 75, 100):
        ring = " ".join(
            f"{_n(cx + radius * step / 100 * math.cos(a))},{_n(cy + radius * step / 100 * math.sin(a))}"
            for a in angles
        )
        dash = "" if step == 100 else ' stroke-dasharray="3 3"'
        body.append(f'<polygon points="{ring}"{dash}/>')
    for angle in angles:
        body.append(
            f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(cx + radius * math.cos(angle))}" '
            f'y2="{_n(cy + radius * math.sin(angle))}"/>'
        )
    body.append("</g>")
    # The data: filled runs of measured axes, their outline, the points and their values.
    points = [
        None
        if value is None
        else (cx + radius * value / 100 * math.cos(a), cy + radius * value / 100 * math.sin(a))
        for (_, value), a in zip(domains, angles, strict=True)
    ]
    body.append('<g class="chart-series">')
    for run in _runs([p is not None for p in points]):
        coords = [points[i] for i in run]
        if len(run) == count:
            path = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)  # type: ignore[misc]
            body.append(
                f'<polygon points="{path}" fill="currentColor" fill-opacity=".14" '
                'stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>'
            )
        elif len(run) == 1:
            x, y = coords[0]  # type: ignore[misc]
            body.append(
                f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(x)}" y2="{_n(y)}" stroke="currentColor" '
                'stroke-width="2"/>'
            )
        else:
            path = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)  # type: ignore[misc]
            body.append(
                f'<polygon points="{_n(cx)},{_n(cy)} {path}" fill="currentColor" fill-opacity=".14" '
                'stroke="none"/>'
                f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2" '
                'stroke-linejoin="round"/>'
            )
    for point in points:
        if point is not None:
            body.append(
                f'<circle cx="{_n(point[0])}" cy="{_n(point[1])}" r="3.5" stroke="#fff" '
                'stroke-width="1.5" class="chart-dot"/>'
            )
    body.append("</g>")
    values = []  # (x, y of the baseline, text)
    for (_, value), angle in zip(domains, angles, strict=True):
        if value is not None:
            r = radius * value / 100 + (12 if value < 78 else -13)
            values.append((cx + r * math.cos(angle), cy + r * math.sin(angle) + 4, str(value)))

    # The guides' values (25…100), over the data but under the values, along the bisector of the
    # two axes whose wedge keeps them farthest from the plotted values (a wedge pointing up or down,
    # so that they stack rather than run into each other).
    def guides(wedge: int) -> list[tuple[float, float, str]]:
        mid = angles[wedge] + math.pi / count
        return [
            (cx + r * math.cos(mid) + 2, cy + r * math.sin(mid) + 3, str(step))
            for step in (25, 50, 75, 100)
            for r in [radius * step / 100 * math.cos(math.pi / count)]
        ]

    def clearance(wedge: int) -> float:
        spots = [(x, y - 4) for x, y, _ in values] + [p for p in points if p is not None]
        return min(
            (math.dist((gx + 5, gy - 3), spot) for gx, gy, _ in guides(wedge) for spot in spots),
            default=math.inf,
        )

    upright = [w for w in range(count) if abs(math.sin(angles[w] + math.pi / count)) >= 0.49]  # stacked
    best = max(upright, key=lambda wedge: (min(clearance(wedge), 24), -wedge))
    body.append('<g class="chart-guides">')
    for x, y, text in guides(best):
        body.append(_text(x, y, text, size=8.5, cls="chart-muted", halo=True))
    body.append("</g>")
    body.append('<g class="chart-values">')
    for x, y, text in values:
        body.append(_text(x, y, text, size=11, anchor="middle", bold=True, halo=True))
    body.append("</g>")

    body.append('<g class="chart-labels">')
    for lines, x, first, anchor, missing in labels:
        y = first + cy
        for line in lines:
            body.append(_text(x, y, line, size=size, anchor=anchor))
            y += line_height
        if missing:
            body.append(_text(x, y, NOT_MEASURED, size=size - 0.5, anchor=anchor, cls="chart-muted",
                              extra='font-style="italic"'))  # fmt: skip
    body.append("</g>")
    return _svg("radar", uid, height, title, desc, body)


def _runs(present: list[bool]) -> list[list[int]]:
    """Maximal circular runs of consecutive True indexes: [T, T, F, T] → [[3, 0, 1]]."""
    count = len(present)
    if all(present):
        return [list(range(count))]
    start = present.index(False)
    runs: list[list[int]] = []
    current: list[int] = []
    for step in range(1, count + 1):
        i = (start + step) % count
        if present[i]:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _bars(uid: str, domains: list[tuple[str, int | None]], title: str, desc: str) -> Markup:
    """One or two domains: a labelled horizontal bar each (value printed beside it)."""
    body: list[str] = [_hatch(uid)]
    y = PAD
    track = WIDTH - 2 * PAD - 44
    for label, value in domains:
        for line in wrap(label, WIDTH - 2 * PAD, 11, max_lines=3):
            y += 13
            body.append(_text(PAD, y, line, size=11))
        y += 6
        body.append(
            f'<rect class="chart-track" x="{PAD}" y="{_n(y)}" width="{_n(track)}" height="14" rx="3" '
            'fill="none" stroke="currentColor" stroke-opacity=".35"/>'
        )
        if value is None:
            body.append(
                f'<rect x="{PAD}" y="{_n(y)}" width="{_n(track)}" height="14" rx="3" '
                f'fill="url(#{uid}-hatch)"/>'
            )
            body.append(_text(WIDTH - PAD, y + 11, "—", size=11, anchor="end", bold=True))
            body.append(_text(PAD + 6, y + 30, NOT_MEASURED, size=10.5, cls="chart-muted",
                              extra='font-style="italic"'))  # fmt: skip
            y += 18
        else:
            body.append(
                f'<g class="chart-series"><rect x="{PAD}" y="{_n(y)}" width="{_n(track * value / 100)}" '
                'height="14" rx="3" fill="currentColor" fill-opacity=".55"/></g>'
            )
            body.append(_text(WIDTH - PAD, y + 11, f"{value}", size=12, anchor="end", bold=True))
        y += 14 + 10
    body.append(_text(PAD, y + 6, "Maîtrise sur 100", size=10, cls="chart-muted"))
    return _svg("radar", uid, y + 6 + PAD, title, desc, body)


# --------------------------------------------------------------------------------------------------
# Heat-map: mastery per skill, grouped by domain


def _shade(value: int) -> str:
    """Darker for a higher mastery, in steps that follow the levels (55, 70, 85…)."""
    for threshold, opacity in ((85, ".42"), (70, ".32"), (55, ".22"), (40, ".13")):
        if value >= threshold:
            return opacity
    return ".05"


def heatmap(rows: list[tuple[str, list[tuple[str, int | None]]]], title: str) -> Markup:
    """Skills per domain: a domain heading then its skills as cells, two per line (a phone's width).

    Each cell is shaded by mastery, prints its number ('—' when not measured, over a hatch) and
    carries a gauge whose length is the mastery: it reads without colour.
    """
    rows = [
        (str(domain), [(str(s), None if v is None else round(_clamp(v))) for s, v in skills])
        for domain, skills in rows
    ]
    if not rows:
        return Markup("")
    uid = _uid("heatmap", title, rows)
    desc = "Maîtrise par compétence, sur 100. " + " ".join(
        f"{domain} : "
        + (
            " ; ".join(f"{s} : {NOT_MEASURED if v is None else v}" for s, v in skills)
            if skills
            else "aucune compétence évaluée"
        )
        + "."
        for domain, skills in rows
    )
    columns, gap = 2, 6
    cell_width = (WIDTH - 2 * PAD - gap * (columns - 1)) / columns
    inner = cell_width - 16
    body: list[str] = [_hatch(uid)]
    y = PAD
    for domain, skills in rows:
        y += 4
        for line in wrap(domain, WIDTH - 2 * PAD, 12.5, max_lines=3, bold=True):
            y += 15
            body.append(_text(PAD, y, line, size=12.5, bold=True, cls="chart-heading"))
        y += 7
        if not skills:
            y += 12
            body.append(_text(PAD, y, "Aucune compétence évaluée", size=11, cls="chart-muted"))
            y += 8
            continue
        for start in range(0, len(skills), columns):
            line_sets = [
                wrap(label, inner, 10.5, max_lines=5) for label, _ in skills[start : start + columns]
            ]
            cell_height = 32 + 12.5 * max(len(lines) for lines in line_sets) + 14
            for offset, ((_, value), lines) in enumerate(
                zip(skills[start : start + columns], line_sets, strict=True)
            ):
                x = PAD + offset * (cell_width + gap)
                body.append(_cell(uid, x, y, cell_width, cell_height, value, lines))
            y += cell_height + gap
    y += 8
    for line in wrap(
        "Maîtrise sur 100 : plus la case est foncée et la jauge longue, plus la compétence est maîtrisée ; "
        "— : non évalué.",
        WIDTH - 2 * PAD,
        10,
        max_lines=3,
    ):
        y += 12
        body.append(_text(PAD, y, line, size=10, cls="chart-muted"))
    return _svg("heatmap", uid, y + PAD, title, desc, body)


def _cell(
    uid: str, x: float, y: float, width: float, height: float, value: int | None, lines: list[str]
) -> str:
    box = f'x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" rx="6"'
    parts = [f'<g class="chart-cell{" chart-cell-none" if value is None else ""}">']
    if value is None:
        parts.append(f'<rect {box} fill="url(#{uid}-hatch)"/>')
    else:
        parts.append(
            f'<g class="chart-series"><rect {box} fill="currentColor" fill-opacity="{_shade(value)}"/></g>'
        )
    parts.append(f'<rect {box} fill="none" stroke="currentColor" stroke-opacity=".3"/>')
    if value is None:
        parts.append(_text(x + 8, y + 21, "—", size=16, bold=True))
        parts.append(_text(x + 28, y + 20, NOT_MEASURED, size=10.5, extra='font-style="italic"'))
    else:
        number = str(value)
        parts.append(_text(x + 8, y + 21, number, size=16, bold=True))
        parts.append(
            _text(x + 10 + text_width(number, 16, True), y + 20, "/ 100", size=10, cls="chart-muted")
        )
    line_y = y + 38
    for line in lines:
        parts.append(_text(x + 8, line_y, line, size=10.5))
        line_y += 12.5
    # The gauge: its length is the mastery.
    gauge_y, gauge_width = y + height - 11, width - 16
    parts.append(
        f'<rect x="{_n(x + 8)}" y="{_n(gauge_y)}" width="{_n(gauge_width)}" height="5" rx="2.5" fill="none" '
        'stroke="currentColor" stroke-opacity=".45" stroke-width=".8"/>'
    )
    if value:
        parts.append(
            f'<rect x="{_n(x + 8)}" y="{_n(gauge_y)}" width="{_n(gauge_width * value / 100)}" height="5" '
            'rx="2.5" class="chart-gauge"/>'
        )
    parts.append("</g>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Timeline: SSN over time


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
    uid = _uid("timeline", title, ordered, tuple(levels))
    thresholds = sorted(levels, reverse=True)
    dates = [fr.short_date(when) for when, _ in ordered]
    described = " ; ".join(
        f"{d} : {_value(v)} ({level_of(v, thresholds, floor_label)})"
        for d, (_, v) in zip(dates, ordered, strict=True)
    )
    last = ordered[-1][1]
    count = len(ordered)
    desc = (
        f"Score standardisé (SSN, sur 100) de {fr.plural(count, 'test')}"
        + (f", du {dates[0]} au {dates[-1]}" if count > 1 else f", le {dates[0]}")
        + f" : {described}. Dernier SSN : {_value(last)}, niveau {level_of(last, thresholds, floor_label)}."
    )

    band_room = max(text_width(label, 9.5) for _, label in [*thresholds, (0, floor_label)]) + 8
    left, right = 26, WIDTH - PAD - band_room
    top, bottom = 22, 200
    height = bottom + 34 + PAD

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * _clamp(value) / 100

    body: list[str] = []
    # Level bands (alternating tints, a dashed line at each threshold, their names on the right).
    edges = [100, *[t for t, _ in thresholds], 0]
    names = [label for _, label in thresholds] + [floor_label]
    body.append('<g class="chart-bands">')
    for i, (high, low, name) in enumerate(zip(edges, edges[1:], names, strict=False)):
        y_high, y_low = y_of(high), y_of(low)
        body.append(
            f'<rect x="{left}" y="{_n(y_high)}" width="{_n(right - left)}" height="{_n(y_low - y_high)}" '
            f'fill="currentColor" fill-opacity="{".07" if i % 2 == 0 else ".025"}"/>'
        )
        if y_low - y_high >= 10:
            body.append(_text(right + 5, (y_high + y_low) / 2 + 3.5, name, size=9.5, cls="chart-muted"))
    body.append("</g>")
    body.append('<g class="chart-grid" fill="none" stroke="currentColor" stroke-opacity=".35">')
    for threshold, _ in thresholds:
        body.append(
            f'<line x1="{left}" y1="{_n(y_of(threshold))}" x2="{_n(right)}" y2="{_n(y_of(threshold))}" '
            'stroke-dasharray="3 3"/>'
        )
    body.append(f'<rect x="{left}" y="{top}" width="{_n(right - left)}" height="{bottom - top}"/>')
    body.append("</g>")
    body.append(_text(PAD, 12, "SSN", size=10, bold=True, cls="chart-muted"))
    for tick in sorted({0, 100, *[t for t, _ in thresholds]}):
        body.append(
            _text(left - 4, y_of(tick) + 3.5, str(int(tick)), size=9, anchor="end", cls="chart-muted")
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
        path = " ".join(f"{_n(x)},{_n(y_of(v))}" for x, (_, v) in zip(xs, ordered, strict=True))
        body.append(
            f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    for x, (_, v) in zip(xs, ordered, strict=True):
        body.append(
            f'<circle cx="{_n(x)}" cy="{_n(y_of(v))}" r="4" stroke="#fff" stroke-width="1.5" '
            'class="chart-dot"/>'
        )
    body.append("</g>")
    body.append('<g class="chart-values">')
    # Above each point; from eight tests on, the values stand upright so that they never overlap.
    upright = spacing < 34
    for x, (_, v) in zip(xs, ordered, strict=True):
        y = y_of(v)
        if not upright:
            body.append(_text(x, y - 8, _value(v), size=10.5, anchor="middle", bold=True, halo=True))
            continue
        below = v > 75
        tx, ty = x + 3.5, y + (8 if below else -8)
        body.append(
            _text(tx, ty, _value(v), size=10, anchor="end" if below else "start", bold=True, halo=True,
                  extra=f'transform="rotate(-90 {_n(tx)} {_n(ty)})"')
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
        body.append(_text(xs[i], bottom + 13, day_month, size=9.5, anchor="middle", cls="chart-muted"))
        if year != shown_year:
            body.append(_text(xs[i], bottom + 25, year, size=9, anchor="middle", cls="chart-muted"))
            shown_year = year
    body.append("</g>")
    return _svg("timeline", uid, height, title, desc, body)
