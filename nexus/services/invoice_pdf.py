"""An invoice (or its receipt) as a one-page A4 PDF in French (fpdf2 core fonts)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from nexus import fr
from nexus.models.billing import Invoice


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1: keep accents, replace what it lacks."""
    replacements = {"’": "'", "—": "-", "–": "-", "œ": "oe", "Œ": "OE", "\u202f": " ", "\u00a0": " "}
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(invoice: Invoice, *, receipt: bool = False) -> bytes:
    """A one-page A4 invoice (or receipt) in French."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(18, 18, 18)
    write = _writer(pdf)
    pdf.set_font("Helvetica", "B", 16)
    write(0, 9, "Nexus Réussite", ln=True)
    pdf.set_font("Helvetica", "", 9)
    _issuer(invoice, write)
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 13)
    title = "Reçu de paiement" if receipt else "Facture"
    write(0, 8, f"{title} n° {invoice.number}", ln=True)
    pdf.set_font("Helvetica", "", 10)
    issued = fr.short_date(invoice.issued_at)
    write(0, 6, f"Date : {issued}      Statut : {invoice.status.label}", ln=True)
    pdf.ln(3)
    write(0, 6, f"Client : {invoice.customer_name}", ln=True)
    if invoice.customer_tax_id:
        write(0, 6, f"Matricule fiscal du client : {invoice.customer_tax_id}", ln=True)
    if invoice.customer_email:
        write(0, 6, invoice.customer_email, ln=True)
    if invoice.customer_address:
        write(0, 6, invoice.customer_address[:120], ln=True)
    pdf.ln(6)
    _items_table(pdf, invoice, write)
    pdf.ln(4)
    _totals(pdf, invoice, write)
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 9)
    if invoice.paid_at:
        paid = fr.short_date(invoice.paid_at)
        method = invoice.payment_method.label if invoice.payment_method else ""
        write(0, 5, f"Payée le {paid} — {method} — référence {invoice.payment_reference or '-'}", ln=True)
    write(0, 5, f"{invoice.tax_regime.label}.", ln=True)
    if invoice.notes:
        pdf.ln(3)
        pdf.multi_cell(0, 5, _latin1(f"Notes : {invoice.notes[:600]}"), new_x="LMARGIN", new_y="NEXT")
    if invoice.legal_mentions:  # the centre's mentions as they stood at issue (none on older invoices)
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(0, 4, _latin1(invoice.legal_mentions[:1000]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-25)
    pdf.set_font("Helvetica", "I", 8)
    write(0, 4, "Nexus Réussite — soutien scolaire lycée et bac, Tunis. Merci de votre confiance.", ln=True)
    return bytes(pdf.output())


def _issuer(invoice: Invoice, write: Any) -> None:
    """The issuer block as copied at issue; an older invoice has only its name and address."""
    write(0, 5, invoice.issuer_name, ln=True)
    write(0, 5, invoice.issuer_address, ln=True)
    ids = []
    if invoice.issuer_tax_id:
        ids.append(f"Matricule fiscal : {invoice.issuer_tax_id}")
    if invoice.issuer_rne:
        ids.append(f"RNE : {invoice.issuer_rne}")
    if ids:
        write(0, 5, "    ".join(ids), ln=True)
    if invoice.issuer_contact:
        write(0, 5, invoice.issuer_contact, ln=True)


def _writer(pdf: FPDF) -> Any:
    def write(w: float, h: float, text: str, ln: bool = False, align: str = "L", border: int = 0) -> None:
        pdf.cell(
            w,
            h,
            _latin1(text),
            border=border,
            align=align,
            new_x="LMARGIN" if ln else "RIGHT",
            new_y="NEXT" if ln else "TOP",
        )

    return write


def _items_table(pdf: FPDF, invoice: Invoice, write: Any) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_fill_color(232, 237, 250)
    widths = (96, 16, 30, 32)
    for width, header in zip(widths, ("Désignation", "Qté", "Prix unitaire", "Total"), strict=True):
        write(width, 8, header, border=1, align="L" if header == "Désignation" else "R")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 10)
    for item in invoice.items:
        write(widths[0], 8, item.label[:60], border=1)
        write(widths[1], 8, str(item.qty), border=1, align="R")
        write(widths[2], 8, fr.tnd(item.unit_price_millimes), border=1, align="R")
        write(widths[3], 8, fr.tnd(item.total_millimes), border=1, align="R")
        pdf.ln(8)


def _totals(pdf: FPDF, invoice: Invoice, write: Any) -> None:
    rows = [("Sous-total", invoice.subtotal_millimes)]
    if invoice.discount_millimes:
        rows.append(("Remise", -invoice.discount_millimes))
    if invoice.tax_millimes:
        rows.append(("TVA", invoice.tax_millimes))
    if invoice.stamp_millimes:
        rows.append(("Droit de timbre", invoice.stamp_millimes))
    rows.append(("Total", invoice.total_millimes))
    for label, amount in rows:
        pdf.set_font("Helvetica", "B" if label == "Total" else "", 10)
        write(142, 7, label, align="R")
        write(32, 7, fr.tnd(amount), align="R", ln=True)
