"""Operations health (admin): the e-mail outbox and its failures, the queues, the periodic jobs'
last runs, the outside services (lazily: the probes may take seconds), a test e-mail to oneself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.extensions import limiter
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.services import ServiceError
from nexus.services.operations import outbox, platform, runs
from nexus.web import is_fragment_request, or_404

bp = Blueprint("operations", __name__, url_prefix="/dashboard/admin/operations")
INDEX = "operations.index"
ROW = "operations/_email_row.html"


def _admin_key() -> str:
    return f"user:{current_user.id}"


@bp.get("")
@policy.access(policy.ADMIN)
def index() -> Any:
    from nexus.jobs.runs import intervals  # the schedule is the jobs' own list

    return render_template(
        "operations/index.html",
        counts=outbox.counts(),
        failed=outbox.failed(),
        shown=outbox.FAILED_SHOWN,
        queues=platform.queues(),
        jobs=runs.overview(intervals()),
        late_factor=runs.LATE_FACTOR,
        back=url_for(INDEX),
    )


@bp.get("/services")
@policy.access(policy.ADMIN)
def services() -> Any:
    """The /healthz probes: the panel the page loads after itself, or a page without JavaScript."""
    if is_fragment_request():
        g.bare_fragment = True  # nexus.web: no bell counts for a fragment that shows no bell
        return render_template("operations/_services.html", services=platform.services())
    return render_template("operations/services.html", services=platform.services(), nav_current=INDEX)


@bp.post("/emails/<int:outbox_id>/reessayer")
@policy.access(policy.ADMIN)
def retry_email(outbox_id: int) -> Any:
    row, changed = outbox.retry(outbox_id, current_user._get_current_object())
    row = or_404(row)
    if changed:
        return _answer(row, "E-mail remis en file : il part dans un instant.", rows.DONE)
    if outbox.is_discarded(row):
        return _answer(row, "Cet e-mail a été abandonné entre-temps : il ne sera pas renvoyé.", rows.CONFLICT)
    return _answer(row, f"{rows.ALREADY_DONE} : cet e-mail est déjà « {_state(row)} ».", rows.DONE)


@bp.post("/emails/<int:outbox_id>/abandonner")
@policy.access(policy.ADMIN)
def discard_email(outbox_id: int) -> Any:
    row = or_404(outbox.get(outbox_id))
    if not rows.confirmed():
        return rows.confirm_page(
            "Abandonner cet e-mail ?",
            url_for("operations.discard_email", outbox_id=outbox_id),
            button="Oui, abandonner",
            back=rows.back_url(INDEX),
            facts={"Destinataire": row.to_email, "Objet": row.subject, "Essais": str(row.attempts)},
            warning="Il ne sera plus jamais envoyé ; prévenez le destinataire autrement si besoin.",
            danger=True,
            nav_current=INDEX,
        )
    row, changed = outbox.discard(outbox_id, current_user._get_current_object())
    row = or_404(row)
    if changed:
        return _answer(row, "E-mail abandonné : il ne sera pas renvoyé.", rows.DONE)
    if outbox.is_discarded(row):
        return _answer(row, f"{rows.ALREADY_DONE} : cet e-mail est déjà abandonné.", rows.DONE)
    return _answer(row, f"Cet e-mail a changé entre-temps : il est « {_state(row)} ».", rows.CONFLICT)


@bp.post("/email-test")
@policy.access(policy.ADMIN)
@limiter.limit("5/hour", key_func=_admin_key)  # each click is an e-mail
def test_email() -> Any:
    try:
        row = outbox.send_test(current_user._get_current_object())
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(
            f"E-mail de test mis en file pour {row.to_email} : vérifiez votre boîte de réception.", "success"
        )
    return redirect(url_for(INDEX), code=303)


def _state(row: OutboxEmail) -> str:
    return "Abandonné" if outbox.is_discarded(row) else row.status.label


def _answer(row: OutboxEmail, notice: str, status: int) -> Any:
    actionable = row.status is OutboxStatus.FAILED and not outbox.is_discarded(row)
    return rows.answer(
        ROW,
        notice,
        back=INDEX,
        status=status,
        email=row,
        state=_state(row),
        actionable=actionable,
        oob_counts=outbox.counts() if is_fragment_request() else None,  # the figures above the table
        back_url=url_for(INDEX),
    )
