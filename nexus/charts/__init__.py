"""Server-rendered SVG charts for the positioning tests' results: radar, skill heat-map, SSN timeline."""

# Pure functions (no Flask, no database) returning `markupsafe.Markup`, to be put beside the table
# that holds the same numbers (DESIGN.md: "readable without colour, with their table beside them").
#
# Every chart is an `<svg role="img">` with a `<title>` and a French `<desc>` that states its data, a
# viewBox 360 units wide (one unit = one pixel on a 360 px phone) and `width="100%"`; the stylesheet
# caps its width on large screens (`.chart` in static/css/app.css). No script, no `style` attribute
# (the CSP forbids them), no external font: presentation attributes give a readable default in
# `currentColor`, classes let the stylesheet add the brand colour. Every value is printed as text,
# so nothing relies on colour; every label is escaped. Mastery reads as a percentage ("62 %"), as on
# the results page and in the PDF; the SSN stays a score out of 100.

from nexus.charts.mastery_radar import radar
from nexus.charts.skill_heatmap import heatmap
from nexus.charts.ssn_timeline import timeline
from nexus.charts.svg import FONT, LEVELS, NOT_MEASURED, PAD, SAFETY, WIDTH, level_of, text_width, wrap

__all__ = [
    "FONT",
    "LEVELS",
    "NOT_MEASURED",
    "PAD",
    "SAFETY",
    "WIDTH",
    "heatmap",
    "level_of",
    "radar",
    "text_width",
    "timeline",
    "wrap",
]
