"""Files: vault documents, invoice PDFs (also by e-mailed link) and receipts.

Every refusal is the same 404, so nobody learns whether someone else's document exists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from nexus import policy
from nexus.services import ServiceError, invoices, vault
from nexus.web import download_response, or_404, pdf_response

bp = Blueprint("documents", __name__)


@bp.get("/dashboard/parent/ressources")
@policy.access(policy.PARENT)
def parent_documents() -> Any:
    return render_template("documents/list.html", documents=vault.documents_of(current_user))


@bp.get("/dashboard/eleve/ressources")
@policy.access(policy.ELEVE)
def student_documents() -> Any:
    return render_template("documents/list.html", documents=vault.documents_of(current_user))


@bp.get("/documents/<int:document_id>")
@policy.access(policy.SIGNED_IN)
def download(document_id: int) -> Any:
    document = or_404(vault.own_document(current_user, document_id))
    path = or_404(vault.stored_file(document))
    return download_response(path, document.mime_type, document.original_name)


@bp.get("/factures/<int:invoice_id>/pdf")
@policy.access(policy.PUBLIC)  # an e-mailed link carries its own token; otherwise the owner or staff
def invoice_pdf(invoice_id: int) -> Any:
    token = request.args.get("token")
    if token:
        invoice = invoices.by_token(invoice_id, token)
    elif current_user.is_authenticated:
        invoice = invoices.visible_to(current_user, invoice_id)
    else:
        invoice = None
    if invoice is None:
        abort(404)
    return pdf_response(invoices.pdf_bytes(invoice), f"facture_{invoice.number}.pdf")


@bp.get("/factures/<int:invoice_id>/recu")
@policy.access(policy.SIGNED_IN)
def receipt(invoice_id: int) -> Any:
    invoice = or_404(invoices.visible_to(current_user, invoice_id))
    try:
        data = invoices.receipt_pdf(invoice)
    except ServiceError:
        abort(404)
    return pdf_response(data, f"recu_{invoice.number}.pdf")
