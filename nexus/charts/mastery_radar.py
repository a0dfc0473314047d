"""The radar of mastery per domain (3 to 8 axes), with horizontal bars for one or two domains."""

from __future__ import annotations

import math

from markupsafe import Markup

from nexus.charts.svg import (
    NOT_MEASURED,
    PAD,
    WIDTH,
    chart_id,
    clamp,
    hatch,
    percent,
    px,
    shell,
    svg_text,
    text_width,
    wrap,
)


def radar(domains: list[tuple[str, int | None]], title: str) -> Markup:
    """Mastery (0–100, printed as '62 %') per domain on 3 to 8 axes; None is a gap labelled 'non évalué'.

    Fewer than three domains draw horizontal bars instead (a radar needs three axes); none, nothing.
    """
    domains = [(str(label), None if value is None else round(clamp(value))) for label, value in domains]
    if not domains:
        return Markup("")
    uid = chart_id("radar", title, domains)
    desc = (
        "Maîtrise par domaine : "
        + " ; ".join(
            f"{label} : {NOT_MEASURED if value is None else percent(value)}" for label, value in domains
        )
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
    radius = clamp(WIDTH / 2 - PAD - 14 - widest, 70, 96)
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
            f"{px(cx + radius * step / 100 * math.cos(a))},{px(cy + radius * step / 100 * math.sin(a))}"
            for a in angles
        )
        dash = "" if step == 100 else ' stroke-dasharray="3 3"'
        body.append(f'<polygon points="{ring}"{dash}/>')
    for angle in angles:
        body.append(
            f'<line x1="{px(cx)}" y1="{px(cy)}" x2="{px(cx + radius * math.cos(angle))}" '
            f'y2="{px(cy + radius * math.sin(angle))}"/>'
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
            path = " ".join(f"{px(x)},{px(y)}" for x, y in coords)  # type: ignore[misc]
            body.append(
                f'<polygon points="{path}" fill="currentColor" fill-opacity=".14" '
                'stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>'
            )
        elif len(run) == 1:
            x, y = coords[0]  # type: ignore[misc]
            body.append(
                f'<line x1="{px(cx)}" y1="{px(cy)}" x2="{px(x)}" y2="{px(y)}" stroke="currentColor" '
                'stroke-width="2"/>'
            )
        else:
            path = " ".join(f"{px(x)},{px(y)}" for x, y in coords)  # type: ignore[misc]
            body.append(
                f'<polygon points="{px(cx)},{px(cy)} {path}" fill="currentColor" fill-opacity=".14" '
                'stroke="none"/>'
                f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2" '
                'stroke-linejoin="round"/>'
            )
    for point in points:
        if point is not None:
            body.append(
                f'<circle cx="{px(point[0])}" cy="{px(point[1])}" r="3.5" stroke="#fff" '
                'stroke-width="1.5" class="chart-dot"/>'
            )
    body.append("</g>")
    values = []  # (x, y of the baseline, text)
    # Beside its point, but never so near the centre that two neighbours' values ('18 %', '22 %') touch.
    value_width = text_width(percent(88), 11, bold=True)
    nearest = value_width / 2 / math.sin(math.pi / count)
    for (_, value), angle in zip(domains, angles, strict=True):
        if value is not None:
            r = max(radius * value / 100 + (12 if value < 78 else -13), nearest)
            values.append((cx + r * math.cos(angle), cy + r * math.sin(angle) + 4, percent(value)))

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
        ends = value_width / 2 - 6  # a value's both ends, not its centre only
        spots = [(x + dx, y - 4) for x, y, _ in values for dx in (-ends, 0, ends)]
        spots += [p for p in points if p is not None]
        return min(
            (math.dist((gx + 5, gy - 3), spot) for gx, gy, _ in guides(wedge) for spot in spots),
            default=math.inf,
        )

    upright = [w for w in range(count) if abs(math.sin(angles[w] + math.pi / count)) >= 0.49]  # stacked
    best = max(upright, key=lambda wedge: (min(clearance(wedge), 24), -wedge))
    body.append('<g class="chart-guides">')
    for x, y, text in guides(best):
        body.append(svg_text(x, y, text, size=8.5, cls="chart-muted", halo=True))
    body.append("</g>")
    body.append('<g class="chart-values">')
    for x, y, text in values:
        body.append(svg_text(x, y, text, size=11, anchor="middle", bold=True, halo=True))
    body.append("</g>")

    body.append('<g class="chart-labels">')
    for lines, x, first, anchor, missing in labels:
        y = first + cy
        for line in lines:
            body.append(svg_text(x, y, line, size=size, anchor=anchor))
            y += line_height
        if missing:
            body.append(svg_text(x, y, NOT_MEASURED, size=size - 0.5, anchor=anchor, cls="chart-muted",
                              extra='font-style="italic"'))  # fmt: skip
    body.append("</g>")
    return shell("radar", uid, height, title, desc, body)


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
    body: list[str] = [hatch(uid)]
    y = PAD
    track = WIDTH - 2 * PAD - 52  # room for '100 %'
    for label, value in domains:
        for line in wrap(label, WIDTH - 2 * PAD, 11, max_lines=3):
            y += 13
            body.append(svg_text(PAD, y, line, size=11))
        y += 6
        body.append(
            f'<rect class="chart-track" x="{PAD}" y="{px(y)}" width="{px(track)}" height="14" rx="3" '
            'fill="none" stroke="currentColor" stroke-opacity=".35"/>'
        )
        if value is None:
            body.append(
                f'<rect x="{PAD}" y="{px(y)}" width="{px(track)}" height="14" rx="3" '
                f'fill="url(#{uid}-hatch)"/>'
            )
            body.append(svg_text(WIDTH - PAD, y + 11, "—", size=11, anchor="end", bold=True))
            body.append(svg_text(PAD + 6, y + 30, NOT_MEASURED, size=10.5, cls="chart-muted",
                              extra='font-style="italic"'))  # fmt: skip
            y += 18
        else:
            body.append(
                f'<g class="chart-series"><rect x="{PAD}" y="{px(y)}" width="{px(track * value / 100)}" '
                'height="14" rx="3" fill="currentColor" fill-opacity=".55"/></g>'
            )
            body.append(svg_text(WIDTH - PAD, y + 11, percent(value), size=12, anchor="end", bold=True))
        y += 14 + 10
    body.append(svg_text(PAD, y + 6, "Maîtrise en pourcentage", size=10, cls="chart-muted"))
    return shell("radar", uid, y + 6 + PAD, title, desc, body)
