"""Files: vault documents, invoice PDFs (also by e-mailed link) and receipts; staff filing a
document in a family's or a student's vault, and removing one.

Every refusal of a download is the same 404, so nobody learns whether someone else's document
exists. The staff page works without JavaScript: a plain search form, a plain upload form, and a
confirmation page before a removal (htmx only narrows the search as one types and swaps rows).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.forms.documents import VaultUploadForm
from nexus.models.identity import User
from nexus.models.vault import DocumentKind
from nexus.services import ServiceError, invoice_links, invoices, parse_id, vault, vault_upload
from nexus.web import download_response, is_fragment_request, or_404, page_arg, pdf_response

bp = Blueprint("documents", __name__)
STAFF = "documents.staff_index"
STAFF_ROW = "documents/_staff_row.html"


@bp.get("/dashboard/parent/ressources")
@policy.access(policy.PARENT)
def parent_documents() -> Any:
    return render_template("documents/list.html", family=vault.family_documents(current_user))


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
        invoice = invoice_links.by_token(invoice_id, token)
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


# -- staff: filing and removing ---------------------------------------------------------------


def _query() -> str:
    """The search typed in the search box, or in the upload form's person field (live search)."""
    return (request.args.get("q") or request.args.get("person") or "").strip()[:100]


def _staff_page(form: VaultUploadForm, person: User | None, q: str, status: int = 200) -> Any:
    """The upload form, the search and its results, and the chosen person's documents."""
    context: dict[str, Any] = {"q": q, "results": vault_upload.people(q, page_arg()) if q else None}
    if person is not None:
        context |= {
            "person": person,
            "documents": vault.documents_of(person),
            "family": vault_upload.family_of(person),
            "back_url": url_for(STAFF, personne=person.id, q=q or None),
        }
    return render_template("documents/staff.html", form=form, **context), status


@bp.get("/dashboard/assistante/documents")
@policy.access(policy.STAFF)
def staff_index() -> Any:
    q = _query()
    if is_fragment_request():  # the live search: the results table alone
        results = vault_upload.people(q, page_arg()) if q else None
        return render_template("documents/_people.html", q=q, results=results)
    owner_id = parse_id(request.args.get("personne"))
    person = vault_upload.owner(owner_id) if owner_id else None
    form = VaultUploadForm()
    if person is not None:  # chosen in the search: the form names them
        form.person.data, form.owner.data = person.full_name, str(person.id)
    return _staff_page(form, person, q)


@bp.post("/dashboard/assistante/documents")
@policy.access(policy.STAFF)
def staff_upload() -> Any:
    form = VaultUploadForm()
    valid = form.validate()
    choice = vault_upload.choose(parse_id(form.owner.data), form.person.data or "")
    if choice.problem and not form.person.errors:
        form.person.errors = [choice.problem]
    q = "" if choice.person else (form.person.data or "")[:100]  # the matches, to choose from
    if not valid or choice.person is None:
        return _staff_page(form, choice.person, q, 422)
    file = form.file.data
    if file is None or not getattr(file, "filename", ""):
        form.file.errors = ["Choisissez un fichier à déposer."]
        return _staff_page(form, choice.person, q, 422)
    upload = vault_upload.Upload(file.filename, file.read())
    try:
        document = vault_upload.upload(
            current_user, choice.person.id, form.title.data or "", DocumentKind(form.kind.data), upload
        )
    except ServiceError as err:
        getattr(form, err.field or "file", form.file).errors = [err.message]
        return _staff_page(form, choice.person, q, 422)
    except LookupError:
        abort(404)
    flash(f"« {document.title} » a été déposé dans l'espace de {choice.person.full_name}.", "success")
    return redirect(url_for(STAFF, personne=choice.person.id) + "#espace", code=303)


@bp.post("/dashboard/assistante/documents/retirer/<int:document_id>")
@policy.access(policy.STAFF)
def staff_remove(document_id: int) -> Any:
    """Take a document out of a vault; without JavaScript a confirmation page asks first."""
    document = or_404(vault_upload.document(document_id))
    title = document.title
    if not rows.confirmed():
        return rows.confirm_page(
            f"Retirer « {title} » ?",
            url_for("documents.staff_remove", document_id=document_id),
            button="Oui, retirer",
            back=rows.back_url(STAFF),
            facts={
                "Document": title,
                "Type": document.kind.label,
                "Fichier": document.original_name,
                "Déposé le": fr.short_date(document.created_at),
            },
            warning="Le document disparaît de l'espace de la famille et son fichier est effacé.",
            danger=True,
        )
    removed = vault_upload.remove(current_user, document_id)
    notice = f"« {title} » a été retiré." if removed else f"« {title} » avait déjà été retiré."
    return rows.answer(STAFF_ROW, notice, back=STAFF, d=None, doc_id=document_id)
