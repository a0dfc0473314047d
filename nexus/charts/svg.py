"""The charts' building blocks: text measurement and wrapping, numbers, the SVG shell, the hatch."""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from nexus import fr

WIDTH = 360
PAD = 6
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
NOT_MEASURED = "non évalué"
LEVELS = ((85, "Excellence"), (70, "Très solide"), (55, "Stable"), (40, "Fragile"))

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
    **dict.fromkeys(" !,.:;'/|" + fr.NO_BREAK_SPACE + fr.NARROW_SPACE, 278),
    **dict.fromkeys("()-«»", 333),
    "%": 889,
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


def px(value: float) -> str:
    """A coordinate or a length, to the tenth (one unit is one pixel on a 360 px phone)."""
    text = f"{value:.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def score(value: float | int) -> str:
    """A score as French reads it: 62, 57,3."""
    if isinstance(value, int):
        return str(value)
    return fr.number(Decimal(repr(float(value))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def percent(value: int) -> str:
    """A mastery as the results page and the PDF say it: '62 %' (a no-break space before '%')."""
    return fr.percent(value)


def clamp(value: float, low: float = 0, high: float = 100) -> float:
    return max(low, min(high, value))


def level_of(value: float, levels: Sequence[tuple[float, str]] = LEVELS, floor: str = "Prioritaire") -> str:
    """The label of the first level whose threshold the value reaches ('Prioritaire' below all)."""
    for threshold, label in sorted(levels, reverse=True):
        if value >= threshold:
            return label
    return floor


def chart_id(kind: str, *data: object) -> str:
    """A stable id prefix per chart (the same data gives the same ids, harmless on one page)."""
    return f"{kind}-{hashlib.sha1(repr(data).encode()).hexdigest()[:8]}"  # noqa: S324 - not security


def svg_text(
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
    """A `<text>` element, its text escaped; `halo` draws a white outline that keeps it legible."""
    attrs = [f'x="{px(x)}"', f'y="{px(y)}"', f'font-size="{px(size)}"']
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


def shell(kind: str, uid: str, height: float, title: str, desc: str, body: list[str]) -> Markup:
    """The `<svg role="img">` around a chart's body, with its title and French description."""
    return Markup(  # noqa: S704 - every text in body went through escape() (see svg_text)
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {WIDTH} {px(math.ceil(height))}" width="100%" '
        f'font-family="{FONT}" fill="currentColor">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def hatch(uid: str) -> str:
    """The pattern of a value not measured (reads without colour)."""
    return (
        f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="currentColor" '
        'stroke-opacity=".22" stroke-width="1.5"/></pattern></defs>'
    )
