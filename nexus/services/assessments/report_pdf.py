"""A completed positioning test's results as an A4 PDF in French, for the family (fpdf2 core fonts).

Families read it: it says the SSN, its level, the confidence index and the mastery per domain and
per skill — never the raw ability (theta) or its standard error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from nexus import fr
from nexus.models.common import Grade, Subject

CENTRE = "Nexus Réussite"
BRAND = (29, 58, 138)
BRAND_SOFT = (232, 237, 250)
MUTED = (91, 100, 120)
ZEBRA = (246, 248, 252)
LEVELS = ((85, "Excellence"), (70, "Très solide"), (55, "Stable"), (40, "Fragile"))
NOT_MEASURED = "non évalué"


def _text(text: object) -> str:
    """The PDF core fonts speak Windows-1252 here: accents, œ, dashes and curly quotes are kept,
    the rest is replaced."""
    replacements = {"≥": ">=", "≤": "<=", "\u202f": "\u00a0", "→": "->", "✓": "v"}
    text = str(text)
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text.encode("cp1252", "replace").decode("cp1252")


def _score(value: float | int | None) -> str:
    """57.25 → '57,3', 62 → '62' (French decimals, rounded half up)."""
    if value is None:
        return "-"
    return fr.number(Decimal(repr(float(value))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _mastery(value: int | float | None) -> str:
    return fr.percent(value, NOT_MEASURED)


def _level(part: Mapping[str, Any]) -> str:
    if part.get("level_label"):
        return str(part["level_label"])
    ssn = part.get("ssn")
    if ssn is None:
        return ""
    return next((label for threshold, label in LEVELS if ssn >= threshold), "Prioritaire")


def _subject_label(key: str | None, subjects: Iterable[Mapping[str, Any]]) -> str:
    for part in subjects:
        if part.get("subject") == key and part.get("label"):
            return str(part["label"])
    try:
        return Subject(key).label
    except ValueError:
        return str(key or "")


class _Report(FPDF):
    """A4 with the centre's footer and the page number on every page."""

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, _text(f"{CENTRE} — soutien scolaire lycée et bac, Tunis"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, _text(f"Page {self.page_no()} / {{nb}}"), align="R")
        self.set_text_color(0, 0, 0)


def results_pdf(assessment_title: str, person: str, completed_at: datetime, results: dict[str, Any]) -> bytes:
    """The results of a completed test (`Assessment.results`, contract of issue 11) as PDF bytes."""
    pdf = _Report(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_text(f"Résultats du test de positionnement — {person}"))
    pdf.set_author(_text(CENTRE))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    subjects = [part for part in results.get("subjects") or [] if isinstance(part, Mapping)]

    _header(pdf, assessment_title, person, completed_at, results)
    _findings(pdf, "À travailler en priorité", results.get("priorities") or [], subjects)
    _findings(pdf, "Points forts", results.get("strengths") or [], subjects)
    for part in subjects:
        _subject(pdf, part)
    _how_to_read(pdf)
    return bytes(pdf.output())


# ---- blocks --------------------------------------------------------------------------------------


def _line(
    pdf: FPDF, text: str, size: float = 10, style: str = "", height: float = 5.5, muted: bool = False
) -> None:
    pdf.set_font("Helvetica", style, size)
    if muted:
        pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, height, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _header(pdf: FPDF, title: str, person: str, completed_at: datetime, results: Mapping[str, Any]) -> None:
    pdf.set_text_color(*BRAND)
    _line(pdf, CENTRE, 16, "B", 8)
    pdf.set_text_color(0, 0, 0)
    _line(pdf, "Soutien scolaire lycée et bac, Tunis", 9, muted=True)
    pdf.ln(4)
    _line(pdf, "Résultats du test de positionnement", 14, "B", 7)
    pdf.ln(1)
    facts = [("Élève", person), ("Test", title), ("Passé le", fr.when(completed_at))]
    duration_ms = results.get("duration_ms")
    if isinstance(duration_ms, int | float) and duration_ms > 0:
        minutes = max(1, round(duration_ms / 60000))
        facts.append(("Durée", fr.duration(minutes) if minutes >= 60 else f"{minutes}\u00a0min"))
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(24, 5.5, _text(f"{label} :"))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5.5, _text(value), new_x="LMARGIN", new_y="NEXT")
    uai = results.get("uai")
    if uai is not None:
        pdf.ln(3)
        pdf.set_fill_color(*BRAND_SOFT)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(
            0,
            7,
            _text(f"Indice global (UAI) : {_score(uai)} / 100"),
            fill=True,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _line(pdf, "Moyenne pondérée des SSN les plus récents : mathématiques 60 %, NSI 40 %.", 9, muted=True)


def _subject(pdf: FPDF, part: Mapping[str, Any]) -> None:
    if pdf.will_page_break(70):
        pdf.add_page()
    pdf.ln(5)
    label = str(part.get("label") or _subject_label(part.get("subject"), []))
    if part.get("grade") in {g.value for g in Grade}:
        label += f" — {Grade(part['grade']).label}"
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_text_color(*BRAND)
    _line(pdf, label, 13, "B", 7)
    pdf.set_text_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(200, 205, 215)

    ssn = part.get("ssn")
    if ssn is not None:
        level = _level(part)
        _line(
            pdf,
            f"Score standardisé (SSN) : {_score(ssn)} / 100" + (f" — niveau {level}" if level else ""),
            11,
            "B",
        )
    shown, attempted, correct = part.get("shown"), part.get("attempted"), part.get("correct")
    if part.get("confidence") is not None:
        detail = ""
        if shown is not None and attempted is not None:
            detail = f" ({fr.plural(int(attempted), 'question tentée', 'questions tentées')} sur {shown}"
            detail += (
                f", {fr.plural(int(correct), 'réponse juste', 'réponses justes')})"
                if correct is not None
                else ")"
            )
        _line(pdf, f"Indice de confiance : {round(part['confidence'])}\u00a0%{detail}")
    if part.get("small_cohort"):
        size = part.get("cohort_size")
        counted = ""
        if isinstance(size, int):
            counted = f" ({fr.plural(size, 'test passé', 'tests passés') if size else 'aucun test passé'})"
        _line(
            pdf,
            f"Cohorte encore réduite{counted} : le SSN est situé sur l'échelle de référence de la banque "
            "de questions, pas encore par rapport aux élèves du même niveau.",
            9,
            "I",
            4.8,
            muted=True,
        )

    domains = [d for d in part.get("domains") or [] if isinstance(d, Mapping)]
    if not domains:
        return
    pdf.ln(2)
    _line(pdf, "Maîtrise par domaine", 11, "B", 6.5)
    _table(
        pdf,
        ("Domaine", "Maîtrise", "Posées", "Tentées", "Justes"),
        [(d.get("label", ""), _mastery(d.get("mastery")), *_counts(d)) for d in domains],
    )
    if any(d.get("skills") for d in domains):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.ln(3)
        _line(pdf, "Maîtrise par compétence", 11, "B", 6.5)
        rows: list[tuple[str, ...] | str] = []
        for d in domains:
            skills = [s for s in d.get("skills") or [] if isinstance(s, Mapping)]
            if skills:
                rows.append(str(d.get("label", "")))
                rows += [(s.get("label", ""), _mastery(s.get("mastery")), *_counts(s)) for s in skills]
        _table(pdf, ("Compétence", "Maîtrise", "Posées", "Tentées", "Justes"), rows)


def _counts(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """(Shown, attempted, correct) as text, '-' when unknown."""
    shown, attempted, correct = (
        "-" if row.get(key) is None else str(row[key]) for key in ("shown", "attempted", "correct")
    )
    return shown, attempted, correct


def _table(pdf: FPDF, headings: tuple[str, ...], rows: list[tuple[str, ...] | str]) -> None:
    """A table with repeated headings; a plain string is a group row across every column."""
    pdf.set_font("Helvetica", "", 9)
    pdf.set_fill_color(255, 255, 255)
    group = FontFace(emphasis="BOLD", fill_color=BRAND_SOFT)
    with pdf.table(
        cell_fill_color=ZEBRA,
        cell_fill_mode="ROWS",
        col_widths=(94, 24, 18, 18, 18),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=BRAND_SOFT),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
        padding=(1.2, 1.5),
        v_align="MIDDLE",
    ) as table:
        heading = table.row()
        for text in headings:
            heading.cell(_text(text))
        for data in rows:
            row = table.row()
            if isinstance(data, str):
                row.cell(_text(data), colspan=len(headings), style=group, align="LEFT")
                continue
            for text in data:
                row.cell(_text(text))
    pdf.ln(1)


def _findings(pdf: FPDF, title: str, findings: list[Any], subjects: list[Mapping[str, Any]]) -> None:
    findings = [f for f in findings if isinstance(f, Mapping)]
    if not findings:
        return
    if pdf.will_page_break(12 + 6 * len(findings)):
        pdf.add_page()
    pdf.ln(4)
    _line(pdf, title, 12, "B", 7)
    several = len(subjects) > 1
    for finding in findings:
        subject = f" ({_subject_label(finding.get('subject'), subjects)})" if several else ""
        _line(pdf, f"•  {finding.get('label', '')}{subject} : maîtrise {_mastery(finding.get('mastery'))}")


def _how_to_read(pdf: FPDF) -> None:
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(5)
    _line(pdf, "Comment lire ces résultats", 10, "B", 6)
    for text in (
        "Le SSN (score standardisé Nexus) situe le niveau sur 100 : 50 correspond à la moyenne des élèves "
        "du même niveau. Niveaux : excellence à partir de 85, très solide à partir de 70, stable à partir "
        "de 55, fragile à partir de 40, prioritaire en dessous.",
        "La maîtrise d'un domaine ou d'une compétence est le taux de réussite attendu sur ses questions, au "
        "niveau que montrent les réponses ; « non évalué » : aucune réponse donnée dans ce domaine.",
        "L'indice de confiance est la part des questions tentées : répondre « je ne sais pas » n'est jamais "
        "pénalisé, mais rend la mesure moins précise.",
    ):
        _line(pdf, text, 8.5, height=4.3, muted=True)
        pdf.ln(1)
