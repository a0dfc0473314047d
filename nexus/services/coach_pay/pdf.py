"""A coach's monthly statement as an A4 PDF in French (fpdf2 core fonts, the invoices' style)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from nexus import fr
from nexus.models.coach_pay import CoachStatement, LineKind, StatementLine
from nexus.services import centre_settings
from nexus.services.coach_pay import months

COLUMNS = (  # (header, width mm, align)
    ("Date", 20, "L"),
    ("Type", 28, "L"),
    ("Détail", 66, "L"),
    ("Durée", 14, "R"),
    ("Tarif / h", 18, "R"),
    ("Part", 10, "R"),
    ("Montant", 18, "R"),
)
ROW_HEIGHT = 6
PAGE_BOTTOM = 272  # mm: below this a row goes to the next page (A4 is 297 mm high)
SHORT_KINDS = {
    LineKind.SESSION: "Séance",
    LineKind.WORKSHOP: "Atelier",
    LineKind.NO_SHOW: "Absence élève",
    LineKind.LATE_CANCEL: "Annul. tardive",
    LineKind.COACH_CANCEL: "Annulée (coach)",
    LineKind.MISSING_REPORT: "Rapport manquant",
    LineKind.ADJUSTMENT: "Ajustement",
}


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1: keep accents, replace what it lacks."""
    replacements = {"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"', "—": "-", "–": "-"}
    replacements |= {"…": "...", "œ": "oe", "Œ": "OE", "·": "-", "\u202f": " ", "\u00a0": " "}
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut (with "...") to fit the cell."""
    text = _latin1(text)
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."


def render_pdf(statement: CoachStatement) -> bytes:
    """The statement: the centre, the coach and the month, the rules applied, every line, the total."""
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    write = _writer(pdf)
    _head(pdf, statement, write)
    _table_header(pdf)
    for line in statement.lines:
        if pdf.get_y() > PAGE_BOTTOM:
            pdf.add_page()
            _table_header(pdf)
        _row(pdf, line)
    if pdf.get_y() > PAGE_BOTTOM - 20:  # the total and the notes stay above the foot line
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    write(156, 7, "Total", align="R")
    write(18, 7, fr.tnd(statement.total_millimes), align="R", ln=True)
    _foot(pdf, statement, write)
    return bytes(pdf.output())


def _head(pdf: FPDF, statement: CoachStatement, write: Any) -> None:
    settings = centre_settings.current()
    pdf.set_font("Helvetica", "B", 16)
    write(0, 9, "Nexus Réussite", ln=True)
    pdf.set_font("Helvetica", "", 9)
    write(0, 5, settings.legal_name, ln=True)
    write(0, 5, settings.address, ln=True)
    pdf.ln(5)
    pdf.set_font("Helvetica", "B", 13)
    month = months.month_label(statement.month)
    if statement.number:
        write(0, 8, f"Relevé de rémunération n° {statement.number} — {month}", ln=True)
    else:
        write(0, 8, f"Relevé de rémunération provisoire — {month}", ln=True)
    pdf.set_font("Helvetica", "", 10)
    coach = statement.coach
    write(0, 6, f"Coach : {coach.user.full_name} ({coach.pseudonym})", ln=True)
    if statement.validated_at:
        write(0, 6, f"Validé le {fr.short_date(statement.validated_at)}", ln=True)
    else:
        write(
            0,
            6,
            f"Brouillon calculé le {fr.date_time(statement.computed_at)} : il peut encore changer.",
            ln=True,
        )
    no_show = "payées" if statement.pay_no_show else "non payées"
    write(
        0,
        6,
        f"Règles appliquées : absences de l'élève {no_show} ; annulations tardives par la famille "
        f"payées à {statement.late_cancel_share} %.",
        ln=True,
    )
    pdf.ln(4)


def _table_header(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_fill_color(232, 237, 250)
    for header, width, align in COLUMNS:
        pdf.cell(width, ROW_HEIGHT + 1, _latin1(header), border=1, align=align, fill=True)
    pdf.ln(ROW_HEIGHT + 1)
    pdf.set_font("Helvetica", "", 8)


def _row(pdf: FPDF, line: StatementLine) -> None:
    adjustment = line.kind is LineKind.ADJUSTMENT
    cells = (
        fr.short_date(line.occurred_at) if line.occurred_at else "",
        SHORT_KINDS[line.kind],
        line.reason if adjustment and line.reason else line.label,
        "" if adjustment else fr.duration(line.minutes),
        "" if adjustment else fr.tnd(line.rate_millimes),
        "" if adjustment else f"{line.share_percent} %",
        fr.tnd(line.amount_millimes),
    )
    for text, (_, width, align) in zip(cells, COLUMNS, strict=True):
        pdf.cell(width, ROW_HEIGHT, _fit(pdf, text, width), border=1, align=align)
    pdf.ln(ROW_HEIGHT)


def _foot(pdf: FPDF, statement: CoachStatement, write: Any) -> None:
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 8)
    write(0, 4, "Montants en dinars tunisiens : tarif horaire × durée × part, arrondi au millime.", ln=True)
    if not statement.number:
        write(0, 4, "Document provisoire : seul le relevé validé et numéroté fait foi.", ln=True)
    pdf.set_y(-25)
    pdf.set_font("Helvetica", "I", 8)
    write(0, 4, "Nexus Réussite — soutien scolaire lycée et bac, Tunis.", ln=True)


def _writer(pdf: FPDF) -> Any:
    def write(w: float, h: float, text: str, ln: bool = False, align: str = "L") -> None:
        pdf.cell(
            w,
            h,
            _latin1(text),
            align=align,
            new_x="LMARGIN" if ln else "RIGHT",
            new_y="NEXT" if ln else "TOP",
        )

    return write
