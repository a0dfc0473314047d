"""Horizontal bar charts for the staff's figures: one row per item (a month, an offer, a coach).

Readable without colour: one series only, every value printed as text at the end of its bar, a
row to highlight (the current month) in bold with a hatched bar. Horizontal bars keep each label
whole on a 360 px phone, where twelve month names under vertical bars would not fit. The page
puts the same numbers in a table inside a <details>.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from nexus.charts.svg import PAD, WIDTH, chart_id, px, shell, svg_text, text_width, wrap

ROW = 28  # height of a row
BAR = 14  # thickness of a bar
SIZE = 13.5  # label and value text (about 11 px on a phone: the chart is ~300 px wide there)
LABEL_MAX = 120  # a longer label is wrapped on two lines within this width


def _hatch(uid: str) -> str:
    """The highlighted bar's pattern: dense diagonal lines, visible without colour."""
    return (
        f'<defs><pattern id="{uid}-hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="currentColor" '
        'stroke-opacity=".7" stroke-width="2"/></pattern></defs>'
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed ("1 250 TND", "12")
    strong: bool = False  # the row to highlight (bold label, hatched bar)


def chart(bars: Sequence[Bar], title: str, kind: str = "bars") -> Markup:
    """The chart; an empty Markup when there is no row."""
    if not bars:
        return Markup("")
    uid = chart_id(kind, title, [(b.label, b.value, b.strong) for b in bars])
    labels = [wrap(b.label, LABEL_MAX, SIZE, max_lines=2, bold=b.strong) for b in bars]
    label_w = max(
        text_width(line, SIZE, bold=b.strong) for b, ls in zip(bars, labels, strict=True) for line in ls
    )
    left = PAD + min(label_w, LABEL_MAX) + 8
    value_w = max(text_width(b.text, SIZE, bold=b.strong) for b in bars)
    span = max(WIDTH - PAD - value_w - 6 - left, 40)
    top_value = max((b.value for b in bars), default=0) or 1
    row = ROW + 10 if any(len(lines) > 1 for lines in labels) else ROW
    body = [_hatch(uid), f'<line x1="{px(left)}" y1="{PAD}" x2="{px(left)}" y2="{px(PAD + row * len(bars))}" '
            'stroke="currentColor" stroke-opacity=".45"/>']  # fmt: skip
    for i, (bar, lines) in enumerate(zip(bars, labels, strict=True)):
        middle = PAD + row * i + row / 2
        first_y = middle + 4.5 - (len(lines) - 1) * 7.5
        for n, line in enumerate(lines):
            y = first_y + 15 * n
            body.append(svg_text(left - 8, y, line, size=SIZE, anchor="end", bold=bar.strong))
        length = span * max(bar.value, 0) / top_value
        if length > 0:
            fill = f'fill="url(#{uid}-hatch)" stroke="currentColor"' if bar.strong else 'fill="currentColor"'
            width = px(max(length, 1.5))
            body.append(
                f'<rect class="chart-bar" x="{px(left)}" y="{px(middle - BAR / 2)}" width="{width}" '
                f'height="{BAR}" {fill}/>'
            )
        body.append(svg_text(left + length + 5, middle + 4.5, bar.text, size=SIZE, bold=bar.strong))
    desc = f"{title} : " + " ; ".join(f"{b.label} : {b.text}" for b in bars) + "."
    return shell(kind, uid, PAD * 2 + row * len(bars), title, desc, body)
