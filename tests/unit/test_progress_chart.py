"""The progress chart (index and SSN over time): valid SVG, one marker per point, series told
apart without colour, direct labels that never overlap, escaped text, its table."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date

from nexus.charts.progress import DASHES, LABEL_GAP, Series, chart, table_of

SVG = "{http://www.w3.org/2000/svg}"
INDEX = Series(
    "Indice Nexus", "Indice", [(date(2030, 3, 1), 62), (date(2030, 1, 5), 40), (date(2030, 2, 1), 55)]
)
MATHS = Series("SSN Mathématiques", "Maths", [(date(2030, 1, 10), 48.2), (date(2030, 2, 20), 57.25)])
NSI = Series("SSN NSI", "NSI", [(date(2030, 2, 20), 61)])


def parse(series: list[Series], title: str = "Progression de Yasmine") -> ET.Element:
    return ET.fromstring(str(chart(series, title)))  # noqa: S314 - our own output


def test_one_marker_per_point_with_a_shape_and_a_pattern_per_series():
    root = parse([INDEX, MATHS, NSI])
    groups = {
        g.get("class"): g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("chart-series ")
    }
    shapes = [[e.tag.removeprefix(SVG) for e in g if e.tag != f"{SVG}polyline"] for g in groups.values()]
    assert shapes == [["circle"] * 3, ["rect"] * 2, ["polygon"]]
    lines = [g.find(f"{SVG}polyline") for g in groups.values()]
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray") == DASHES[1]
    assert lines[2] is None  # one point: a marker, no line
    xs = [float(p.split(",")[0]) for p in lines[0].get("points").split()]
    assert xs == sorted(xs)  # in date order whatever the input order


def test_title_description_and_direct_labels():
    root = parse([INDEX, MATHS, NSI])
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Progression de Yasmine"
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("Évolution du 05/01/2030 au 01/03/2030, sur 100.")
    assert "Indice Nexus : 40 le 05/01/2030, 55 le 01/02/2030, 62 le 01/03/2030." in desc
    labels = [t for t in root.iter(f"{SVG}text") if (t.get("class") or "").startswith("chart-label-")]
    assert [t.text for t in labels] == ["Indice 62", "Maths 57,3", "NSI 61"]
    ys = sorted(float(t.get("y")) for t in labels)
    assert all(b - a >= LABEL_GAP - 0.01 for a, b in itertools.pairwise(ys))  # no overlap
    assert all(float(t.get("x")) + 60 <= 360 for t in labels)


def test_nothing_to_draw_and_escaping():
    assert str(chart([], "x")) == "" and str(chart([Series("Indice", "I", [])], "x")) == ""
    root = parse([Series("<b>&", "<i>", [(date(2030, 1, 1), 10)])], title="Sami & <Léa>")
    assert root.find(f"{SVG}title").text == "Sami & <Léa>"
    assert "<b>" not in str(chart([Series("<b>", "<i>", [(date(2030, 1, 1), 10)])], "t"))


def test_the_table_has_the_same_numbers():
    headers, rows = table_of([INDEX, MATHS, NSI])
    assert headers == ["Indice Nexus", "SSN Mathématiques", "SSN NSI"]
    assert rows[0] == (date(2030, 1, 5), ["40", "—", "—"])
    assert rows[-2] == (date(2030, 2, 20), ["—", "57,3", "61"])
    assert len(rows) == 5
