"""The heat-map of mastery per skill, grouped by domain, two cells to a line."""

from __future__ import annotations

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
    wrap,
)


def shade(value: int) -> str:
    """Darker for a higher mastery, in steps that follow the levels (55, 70, 85…)."""
    for threshold, opacity in ((85, ".42"), (70, ".32"), (55, ".22"), (40, ".13")):
        if value >= threshold:
            return opacity
    return ".05"


def heatmap(rows: list[tuple[str, list[tuple[str, int | None]]]], title: str) -> Markup:
    """Skills per domain: a domain heading then its skills as cells, two per line (a phone's width).

    Each cell is shaded by mastery, prints its mastery ('62 %'; '—' when not measured, over a hatch) and
    carries a gauge whose length is the mastery: it reads without colour.
    """
    rows = [
        (str(domain), [(str(s), None if v is None else round(clamp(v))) for s, v in skills])
        for domain, skills in rows
    ]
    if not rows:
        return Markup("")
    uid = chart_id("heatmap", title, rows)
    desc = "Maîtrise par compétence. " + " ".join(
        f"{domain} : "
        + (
            " ; ".join(f"{s} : {NOT_MEASURED if v is None else percent(v)}" for s, v in skills)
            if skills
            else "aucune compétence évaluée"
        )
        + "."
        for domain, skills in rows
    )
    columns, gap = 2, 6
    cell_width = (WIDTH - 2 * PAD - gap * (columns - 1)) / columns
    inner = cell_width - 16
    body: list[str] = [hatch(uid)]
    y = PAD
    for domain, skills in rows:
        y += 4
        for line in wrap(domain, WIDTH - 2 * PAD, 12.5, max_lines=3, bold=True):
            y += 15
            body.append(svg_text(PAD, y, line, size=12.5, bold=True, cls="chart-heading"))
        y += 7
        if not skills:
            y += 12
            body.append(svg_text(PAD, y, "Aucune compétence évaluée", size=11, cls="chart-muted"))
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
        "Maîtrise en pourcentage : plus la case est foncée et la jauge longue, "
        "plus la compétence est maîtrisée ; — : non évalué.",
        WIDTH - 2 * PAD,
        10,
        max_lines=3,
    ):
        y += 12
        body.append(svg_text(PAD, y, line, size=10, cls="chart-muted"))
    return shell("heatmap", uid, y + PAD, title, desc, body)


def _cell(
    uid: str, x: float, y: float, width: float, height: float, value: int | None, lines: list[str]
) -> str:
    box = f'x="{px(x)}" y="{px(y)}" width="{px(width)}" height="{px(height)}" rx="6"'
    parts = [f'<g class="chart-cell{" chart-cell-none" if value is None else ""}">']
    if value is None:
        parts.append(f'<rect {box} fill="url(#{uid}-hatch)"/>')
    else:
        parts.append(
            f'<g class="chart-series"><rect {box} fill="currentColor" fill-opacity="{shade(value)}"/></g>'
        )
    parts.append(f'<rect {box} fill="none" stroke="currentColor" stroke-opacity=".3"/>')
    if value is None:
        parts.append(svg_text(x + 8, y + 21, "—", size=16, bold=True))
        parts.append(svg_text(x + 28, y + 20, NOT_MEASURED, size=10.5, extra='font-style="italic"'))
    else:
        parts.append(svg_text(x + 8, y + 21, percent(value), size=16, bold=True))
    line_y = y + 38
    for line in lines:
        parts.append(svg_text(x + 8, line_y, line, size=10.5))
        line_y += 12.5
    # The gauge: its length is the mastery.
    gauge_y, gauge_width = y + height - 11, width - 16
    parts.append(
        f'<rect x="{px(x + 8)}" y="{px(gauge_y)}" width="{px(gauge_width)}" height="5" rx="2.5" fill="none" '
        'stroke="currentColor" stroke-opacity=".45" stroke-width=".8"/>'
    )
    if value:
        parts.append(
            f'<rect x="{px(x + 8)}" y="{px(gauge_y)}" width="{px(gauge_width * value / 100)}" height="5" '
            'rx="2.5" class="chart-gauge"/>'
        )
    parts.append("</g>")
    return "".join(parts)
