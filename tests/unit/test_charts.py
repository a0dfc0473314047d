"""The results' SVG charts: valid XML, every value printed as text, labels escaped, inside the viewBox."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from markupsafe import Markup

from nexus import charts
from nexus.charts.skill_heatmap import shade
from nexus.charts.svg import percent, score
from nexus.services.assessments.report_pdf import _mastery

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"
MATHS = [
    ("Second degré", 62),
    ("Suites numériques", 31),
    ("Dérivation", None),
    ("Fonction exponentielle", 88),
    ("Trigonométrie", 100),
    ("Produit scalaire et géométrie repérée", 47),
    ("Probabilités conditionnelles et variables aléatoires", 0),
    ("Algorithmique et programmation", 73),
]
SKILLS = [
    (
        "Primitives, équations différentielles et intégration",
        [
            ("Déterminer une primitive", 80),
            ("Résoudre les équations différentielles y' = ay et y' = ay + b", 35),
            ("Calculer une intégrale à l'aide d'une primitive", None),
            ("Propriétés de l'intégrale : linéarité, positivité, aire, valeur moyenne", 58),
            ("Intégration par parties", 100),
        ],
    ),
    ("Dénombrement", [("Compter des listes <script>alert(1)</script>", 12)]),
]


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def viewbox(root: ET.Element) -> tuple[float, float]:
    x, y, width, height = (float(v) for v in root.get("viewBox", "").split())
    assert (x, y) == (0, 0)
    return width, height


def assert_accessible(root: ET.Element) -> None:
    """role=img, a title and a French desc referenced by aria-labelledby, scalable, no script or style."""
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject", f"{SVG}image")
        assert "style" not in element.attrib  # the CSP forbids style attributes
        assert not any(name.startswith("on") for name in element.attrib)
    assert "http" not in ET.tostring(root, encoding="unicode").replace("http://www.w3.org/2000/svg", "")


def assert_inside(root: ET.Element) -> None:
    """Every shape's coordinates and every text's estimated extent lie within the viewBox."""
    width, height = viewbox(root)

    def inside(x: float, y: float, what: str) -> None:
        assert -0.5 <= x <= width + 0.5 and -0.5 <= y <= height + 0.5, (
            f"{what} at ({x}, {y}) leaves 0 0 {width} {height}"
        )

    for element in root.iter():
        tag, get = element.tag.removeprefix(SVG), element.get
        if tag == "circle":
            r = float(get("r"))
            inside(float(get("cx")) - r, float(get("cy")) - r, tag)
            inside(float(get("cx")) + r, float(get("cy")) + r, tag)
        elif tag == "rect":
            inside(float(get("x")), float(get("y")), tag)
            inside(float(get("x")) + float(get("width")), float(get("y")) + float(get("height")), tag)
        elif tag in ("polygon", "polyline"):
            for pair in get("points").split():
                x, y = (float(v) for v in pair.split(","))
                inside(x, y, tag)
        elif tag == "text":
            text, size = "".join(element.itertext()), float(get("font-size"))
            x, y = float(get("x")), float(get("y"))
            length = charts.text_width(text, size, get("font-weight") == "700")
            start = {"start": 0, "middle": -length / 2, "end": -length}[get("text-anchor", "start")]
            if "rotate(-90" in get("transform", ""):  # upright text: its length runs upward
                inside(x - size, y - start, text)
                inside(x, y - start - length, text)
            else:
                inside(x + start, y - size * 0.8, text)
                inside(x + start + length, y + size * 0.25, text)


# ---- radar ---------------------------------------------------------------------------------------


def test_radar_prints_every_value_and_marks_the_gaps() -> None:
    root = parse(charts.radar(MATHS, "Maîtrise par domaine — Mathématiques"))
    assert_accessible(root)
    assert_inside(root)
    shown = texts(root)
    for value in (62, 31, 88, 100, 47, 0, 73):
        assert f"{value}{NBSP}%" in shown  # a mastery is a percentage, as on the results page
    assert shown.count("non évalué") == 1
    for guide in ("25", "50", "75", "100"):
        assert guide in shown
    assert len(list(root.iter(f"{SVG}circle"))) == 7  # a point per measured domain, none for the gap
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("Maîtrise par domaine : Second degré : 62\u00a0% ; Suites numériques : 31\u00a0%")
    assert "Dérivation : non évalué" in desc and "Trigonométrie : 100\u00a0%" in desc
    assert "sur 100" not in desc and "/ 100" not in " ".join(shown)
    assert root.find(f"{SVG}title").text == "Maîtrise par domaine — Mathématiques"


def test_radar_labels_wrap_and_stay_inside_at_360_px() -> None:
    root = parse(charts.radar(MATHS, "t"))
    assert viewbox(root)[0] == 360
    shown = texts(root)
    assert "Probabilités conditionnelles et variables aléatoires" not in shown  # wrapped onto lines
    assert "Probabilités" in " ".join(shown) and "aléatoires" in " ".join(shown)
    for count in range(3, 9):
        long_labels = [
            (f"Architectures matérielles et systèmes d'exploitation {i}", 50) for i in range(count)
        ]
        assert_inside(parse(charts.radar(long_labels, "t")))


@pytest.mark.parametrize("count", [3, 4, 5, 6, 7, 8])
def test_radar_from_three_to_eight_axes(count: int) -> None:
    domains = [(f"Domaine {i}", None if i == 1 else 10 * i + 5) for i in range(count)]
    root = parse(charts.radar(domains, "t"))
    assert_accessible(root)
    assert_inside(root)
    assert len(list(root.iter(f"{SVG}circle"))) == count - 1
    assert texts(root).count("non évalué") == 1


def test_radar_escapes_its_labels_and_title() -> None:
    svg = charts.radar([("<script>alert(1)</script>", 50), ("B & C", 20), ('"D"', 70)], "<b>titre</b>")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "<b>titre</b>"
    assert "B & C" in texts(root)
    assert "<script>alert(1)</script>" in root.find(f"{SVG}desc").text


def test_radar_with_nothing_measured_draws_the_guides_and_says_so() -> None:
    root = parse(charts.radar([("A", None), ("B", None), ("C", None), ("D", None)], "t"))
    assert_inside(root)
    assert texts(root).count("non évalué") == 4
    assert not list(root.iter(f"{SVG}circle"))


def test_radar_with_fewer_than_three_domains_draws_bars_and_none_draws_nothing() -> None:
    root = parse(charts.radar([("Suites numériques", 40), ("Dérivation", None)], "t"))
    assert_accessible(root)
    assert_inside(root)
    shown = set(texts(root))
    assert {f"40{NBSP}%", "—", "non évalué", "Suites numériques", "Maîtrise en pourcentage"} <= shown
    assert "Suites numériques : 40\u00a0% ; Dérivation : non évalué." in root.find(f"{SVG}desc").text
    assert_inside(parse(charts.radar([("Trigonométrie", 100)], "t")))  # room for '100 %'
    assert charts.radar([], "t") == Markup("")


@pytest.mark.parametrize("count", [3, 5, 8])
def test_radar_values_near_the_centre_do_not_touch(count: int) -> None:
    low = [18, 22, 2, 10, 14, 0, 5, 9][:count]
    root = parse(charts.radar([(f"D{i}", value) for i, value in enumerate(low)], "t"))
    boxes = []
    for element in root.iter(f"{SVG}text"):
        text = "".join(element.itertext())
        if text.endswith("%"):
            x, y = float(element.get("x")), float(element.get("y"))
            half = charts.text_width(text, 11, bold=True) / 2
            boxes.append((x - half, y - 9, x + half, y + 3))
    assert len(boxes) == count
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_radar_clamps_values_outside_0_100() -> None:
    root = parse(charts.radar([("A", 130), ("B", -5), ("C", 50)], "t"))
    assert_inside(root)
    assert {"100\u00a0%", "0\u00a0%", "50\u00a0%"} <= set(texts(root))


# ---- heat-map ------------------------------------------------------------------------------------


def test_heatmap_cells_carry_their_number_and_a_dash_when_not_measured() -> None:
    root = parse(charts.heatmap(SKILLS, "Maîtrise par compétence — Mathématiques"))
    assert_accessible(root)
    assert_inside(root)
    shown = texts(root)
    for value in (80, 35, 58, 100, 12):
        assert f"{value}{NBSP}%" in shown
    assert "/ 100" not in shown
    assert "—" in shown and "non évalué" in shown
    assert "Déterminer une primitive" in shown
    assert "Dénombrement" in shown
    desc = root.find(f"{SVG}desc").text
    assert "Calculer une intégrale à l'aide d'une primitive : non évalué" in desc
    assert "Intégration par parties : 100\u00a0%" in desc
    assert desc.startswith("Maîtrise par compétence. Primitives, équations différentielles et intégration : ")
    assert "sur 100" not in desc
    assert "Maîtrise en pourcentage :" in " ".join(shown)  # the legend
    # Darker for a higher mastery: the shading follows the value.
    shades = [r.get("fill-opacity") for r in root.iter(f"{SVG}rect") if r.get("fill-opacity")]
    assert shades == [shade(v) for v in (80, 35, 58, 100, 12)]
    assert shade(100) > shade(70) > shade(50) > shade(10)


def test_heatmap_is_one_column_of_domains_two_cells_wide() -> None:
    root = parse(charts.heatmap(SKILLS, "t"))
    width, _ = viewbox(root)
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("rx") == "6" and r.get("fill") == "none"]
    assert len(cells) == 6
    assert {float(r.get("x")) for r in cells} == {charts.PAD, charts.PAD + (width - 2 * charts.PAD + 6) / 2}


def test_heatmap_escapes_labels_and_handles_empty_input() -> None:
    svg = charts.heatmap([*SKILLS, ("<i>Domaine</i>", [])], "t")
    assert "<script>" not in svg and "<i>" not in svg
    root = parse(svg)
    assert "Aucune compétence évaluée" in texts(root)
    assert "<i>Domaine</i>" in texts(root)
    assert charts.heatmap([], "t") == Markup("")


# ---- timeline ------------------------------------------------------------------------------------


def test_timeline_prints_values_dates_and_levels() -> None:
    points = [(date(2029, 11, 3), 41.25), (date(2030, 1, 10), 48.0), (date(2030, 3, 4), 57.3)]
    root = parse(charts.timeline(points, "SSN en mathématiques au fil des tests"))
    assert_accessible(root)
    assert_inside(root)
    shown = texts(root)
    assert {"41,3", "48", "57,3"} <= set(shown)  # French decimals, rounded half up
    assert {"03/11", "10/01", "04/03", "2029", "2030"} <= set(shown)
    assert {"Excellence", "Très solide", "Stable", "Fragile", "Prioritaire"} <= set(shown)
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    desc = root.find(f"{SVG}desc").text
    assert "3 tests, du 03/11/2029 au 04/03/2030" in desc
    assert "Dernier SSN : 57,3, niveau Stable" in desc
    assert "(SSN, sur 100)" in desc and "%" not in desc  # a score out of 100, not a percentage
    assert not [text for text in shown if "%" in text]


def test_timeline_of_one_point_and_of_none() -> None:
    root = parse(charts.timeline([(date(2030, 3, 4), 57.3)], "t"))
    assert_inside(root)
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert not list(root.iter(f"{SVG}polyline"))
    assert {"57,3", "04/03", "2030"} <= set(texts(root))
    assert "1 test, le 04/03/2030" in root.find(f"{SVG}desc").text
    assert charts.timeline([], "t") == Markup("")


def test_timeline_sorts_dates_and_datetimes_and_reads_them_in_tunis() -> None:
    points = [(datetime(2030, 3, 4, 23, 30, tzinfo=UTC), 60.0), (date(2030, 1, 2), 50.0)]
    root = parse(charts.timeline(points, "t"))
    shown = texts(root)
    assert shown.index("02/01") < shown.index("05/03")  # 23:30 UTC is the 5th in Tunis


def test_timeline_crowded_stays_inside_and_keeps_every_value() -> None:
    points = [(date(2030, 1, 1 + i), 20 + i * 7.5) for i in range(14)]  # up to 117,5 (drawn at 100)
    root = parse(charts.timeline(points, "t"))
    assert_inside(root)
    shown = texts(root)
    for _, value in points:
        assert score(value) in shown
    assert "14/01" in shown  # the last date is always labelled


def test_timeline_custom_levels_and_escaped_title() -> None:
    svg = charts.timeline([(date(2030, 3, 4), 72.0)], "<script>", levels=((60, "Haut"), (30, "Moyen")))
    assert "<script>" not in svg
    root = parse(svg)
    assert {"Haut", "Moyen", "60", "30"} <= set(texts(root))
    assert "niveau Haut" in root.find(f"{SVG}desc").text


# ---- helpers -------------------------------------------------------------------------------------


def test_wrap_cuts_long_words_and_ellipsises_extra_lines() -> None:
    assert charts.wrap("Second degré", 200, 11) == ["Second degré"]
    lines = charts.wrap("Anticonstitutionnellement", 40, 11, max_lines=10)
    assert all(charts.text_width(line, 11) <= 40 for line in lines)
    assert "".join(line.removesuffix("-") for line in lines) == "Anticonstitutionnellement"
    many = charts.wrap("un deux trois quatre cinq six sept huit neuf dix", 30, 11, max_lines=2)
    assert len(many) == 2 and many[-1].endswith("…")


def test_ids_differ_between_charts_on_one_page() -> None:
    ids = re.findall(r'id="([^"]+)"', charts.radar(MATHS, "a") + charts.radar(MATHS[:4], "b"))
    assert len(ids) == len(set(ids))


def test_percent_says_a_mastery_as_the_pdf_does() -> None:
    assert percent(62) == "62\u00a0%" == _mastery(62)
    assert percent(0) == _mastery(0) and percent(100) == _mastery(100)
    assert charts.text_width(percent(100), 12, bold=True) > charts.text_width("100", 12, bold=True) + 12
