"""Staff: the course material ARIA answers from. Upload, watch the indexing, retry, delete.

An upload is stored and indexed by a job on the `embeddings` queue; its table row polls itself
every second (hx-trigger="every 1s") while the job runs and stops once the document is ready.
Retry and delete are row actions (nexus/rows.py); a deletion asks first, without JavaScript on a
confirmation page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.extensions import db
from nexus.forms.knowledge import UploadForm
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import Document
from nexus.services import ServiceError, knowledge
from nexus.web import or_404

bp = Blueprint("knowledge", __name__, url_prefix="/dashboard/assistante/docs")
DOCS, ROW = "knowledge.docs", "knowledge/_doc_row.html"


def _page(form: UploadForm, status: int = 200) -> Any:
    documents, coverage = knowledge.all_documents(), knowledge.coverage()
    return render_template("knowledge/docs.html", form=form, documents=documents, coverage=coverage), status


@bp.get("")
@policy.access(policy.STAFF)
def docs() -> Any:
    return _page(UploadForm())


@bp.post("")
@policy.access(policy.STAFF)
def upload() -> Any:
    form = UploadForm()
    if not form.validate():
        return _page(form, 422)
    data = form.file.data.read()
    try:
        document, created = knowledge.upload(
            title=form.title.data or "",
            subject=Subject(form.subject.data),
            level=Grade(form.level.data),
            filename=form.file.data.filename or "document",
            data=data,
            actor_id=current_user.id,
        )
    except ServiceError as err:
        form.file.errors = [err.message]
        return _page(form, 422)
    if created:
        flash(f"« {document.title} » est en cours d'indexation.", "success")
    else:
        flash(f"Ce fichier est déjà dans la base : « {document.title} » ({document.status.label}).", "info")
    return redirect(url_for("knowledge.docs"), code=303)


def _document(document_id: int) -> Document:
    document = or_404(db.session.get(Document, document_id))
    return document


@bp.get("/<int:document_id>/ligne")
@policy.access(policy.STAFF)
def row(document_id: int) -> Any:
    """The row alone: polled while the document is being indexed."""
    return render_template("knowledge/_doc_row.html", d=_document(document_id))


@bp.post("/<int:document_id>/relancer")
@policy.access(policy.STAFF)
def retry(document_id: int) -> Any:
    _document(document_id)
    try:
        knowledge.retry(document_id, current_user.id)
    except LookupError:  # deleted meanwhile
        abort(404)
    except ServiceError as err:  # restarted by someone else (done), or ready meanwhile (a conflict)
        document = _document(document_id)
        status = rows.DONE if document.is_indexing else rows.CONFLICT
        return rows.answer(ROW, err.message, back=DOCS, status=status, d=document)
    return rows.answer(ROW, "Indexation relancée.", back=DOCS, d=_document(document_id))


@bp.post("/<int:document_id>/supprimer")
@policy.access(policy.STAFF)
def remove(document_id: int) -> Any:
    document = _document(document_id)
    title = document.title
    if not rows.confirmed():
        return rows.confirm_page(
            f"Retirer « {title} » de la base d'ARIA ?",
            url_for("knowledge.remove", document_id=document_id),
            button="Oui, retirer",
            back=rows.back_url(DOCS),
            facts={
                "Document": title,
                "Fichier": document.filename,
                "Matière": document.subject.label,
                "Niveau": document.level.label,
            },
            warning="ARIA ne s'appuiera plus sur ce document ; ses passages indexés sont effacés.",
            danger=True,
        )
    try:
        knowledge.remove(document_id, current_user.id)
    except LookupError:  # removed meanwhile (a second click): nothing left to do
        notice = f"« {title} » a déjà été retiré de la base d'ARIA."
    else:
        notice = f"« {title} » a été retiré de la base d'ARIA."
    return rows.answer(ROW, notice, back=DOCS, d=None, doc_id=document_id)
