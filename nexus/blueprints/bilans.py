"""Bilans for three audiences: the questionnaire, the generation's progress, the signed links, staff retry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from nexus import fr, policy, rows
from nexus.models.assessments import Assessment
from nexus.models.diagnostics import Audience, Bilan
from nexus.richtext import render_markdown
from nexus.services import ServiceError, bilans
from nexus.services.assessments import access
from nexus.services.bilans import links
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("bilans", __name__)

TABLE = "bilans.staff_table"
HEADINGS = {
    Audience.STUDENT: "Ton bilan",
    Audience.PARENTS: "Bilan de {name}",
    Audience.TEAM: "Bilan équipe — {name}",
}
EYEBROWS = {
    Audience.STUDENT: "Ton bilan personnalisé",
    Audience.PARENTS: "Bilan pour les parents",
    Audience.TEAM: "Bilan pour l'équipe pédagogique",
}


# -- the family: questionnaire and progress ---------------------------------------------------------


def _completed_test(assessment_id: int) -> Assessment:
    """The test if it is this family's and completed; 404 otherwise."""
    test = access.visible_test(current_user, assessment_id)
    if test is None or not test.is_completed or not test.results:
        abort(404)
    return test


def _family_links(bilan: Bilan) -> list[tuple[str, str]]:
    """The texts this family member may open: the student theirs, a parent both."""
    if not bilan.is_ready:
        return []
    if current_user.is_student:
        return [("Lire mon bilan", links.path(bilan, Audience.STUDENT))]
    return [
        ("Lire le bilan des parents", links.path(bilan, Audience.PARENTS)),
        ("Lire le bilan de l'élève", links.path(bilan, Audience.STUDENT)),
    ]


def _status_context(test: Assessment, bilan: Bilan) -> dict[str, Any]:
    return {"test": test, "bilan": bilan, "family_links": _family_links(bilan)}


@bp.route("/dashboard/positionnement/<int:assessment_id>/bilan", methods=["GET", "POST"])
@policy.access(policy.FAMILY)
def questionnaire(assessment_id: int) -> Any:
    """The questionnaire, then (once asked) the bilan's progress and links: the row's state, so a
    reload shows where it is."""
    test = _completed_test(assessment_id)
    chapters = bilans.chapters(test.results)
    if request.method == "GET":
        bilan = bilans.bilan_of(test.id)
        if bilan is not None:
            return render_template("bilans/status.html", **_status_context(test, bilan))
        return render_template(
            "bilans/questionnaire.html", test=test, chapters=chapters, values={}, errors={}
        )
    values = {key: request.form.get(key, "") for key in request.form}
    data, errors = bilans.parse_form(request.form, chapters)
    if not errors:
        try:
            bilans.request_bilan(test.id, data, current_user.id)
        except ServiceError as err:
            errors = {err.field or "form": err.message}
    if errors:
        page = render_template(
            "bilans/questionnaire.html", test=test, chapters=chapters, values=values, errors=errors
        )
        return page, 422
    return redirect(url_for("bilans.questionnaire", assessment_id=test.id), code=303)


@bp.get("/dashboard/positionnement/<int:assessment_id>/bilan/etat")
@policy.access(policy.FAMILY)
def progress(assessment_id: int) -> Any:
    """The progress fragment the page polls (the whole page without htmx)."""
    test = _completed_test(assessment_id)
    bilan = or_404(bilans.bilan_of(test.id))
    if not is_fragment_request():
        return redirect(url_for("bilans.questionnaire", assessment_id=test.id))
    response = make_response(render_template("bilans/_progress.html", **_status_context(test, bilan)))
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the signed links -------------------------------------------------------------------------------


def _body(text: str | None) -> Markup:
    """A bilan's Markdown as safe HTML, with French typography (the model writes plain spaces)."""
    return render_markdown(fr.typography(text or ""))


@bp.get("/bilan/<token>")
@policy.access(policy.PUBLIC)
def read(token: str) -> Any:
    """One audience's text, for whoever holds its link; expired, revoked or altered: a page that
    says so, never the text."""
    try:
        opened = bilans.open_link(token)
    except bilans.LinkRefused as refused:
        page = render_template("bilans/link_refused.html", refused=refused)
        response = make_response(page, refused.status)
    else:
        bilan = opened.bilan
        response = make_response(
            render_template(
                "bilans/read.html",
                bilan=bilan,
                audience=opened.audience,
                heading=HEADINGS[opened.audience].format(name=bilans.first_name(bilan)),
                eyebrow=EYEBROWS[opened.audience],
                body=_body(bilan.text_for(opened.audience)),
            )
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# -- staff ------------------------------------------------------------------------------------------


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"person_name": bilans.person_name, "confidence": bilans.CONFIDENCE}


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


@bp.get("/dashboard/assistante/bilans-generes")
@policy.access(policy.STAFF)
def staff_table() -> Any:
    filter_key = request.args.get("filtre", "tous")
    filter_key = filter_key if filter_key in bilans.FILTERS else "tous"
    context = {
        "page": bilans.list_bilans(filter_key, _query(), page_arg()),
        "filters": bilans.FILTERS,
        "filter_key": filter_key,
        "q": _query(),
        "back_url": request.full_path.rstrip("?"),
    }
    if is_fragment_request():
        return render_template("bilans/_staff_table.html", **context)
    return render_template("bilans/staff.html", **context)


@bp.get("/dashboard/assistante/bilans-generes/<int:bilan_id>")
@policy.access(policy.STAFF)
def staff_read(bilan_id: int) -> Any:
    """The three texts, for staff, without a link."""
    bilan = or_404(bilans.get(bilan_id))
    texts = [(a, _body(bilan.text_for(a))) for a in Audience if bilan.text_for(a)]
    return render_template("bilans/staff_read.html", bilan=bilan, texts=texts, back=rows.back_url(TABLE, ""))


def _row(bilan: Bilan, notice: str, status: int = rows.DONE) -> Any:
    return rows.answer(
        "bilans/_staff_row.html", notice, back=TABLE, status=status, b=bilan, back_url=rows.back_url(TABLE)
    )


@bp.post("/dashboard/assistante/bilans-generes/<int:bilan_id>/relancer")
@policy.access(policy.STAFF)
def staff_retry(bilan_id: int) -> Any:
    """Queue a failed generation again (asks first; a page without JavaScript)."""
    bilan = or_404(bilans.get(bilan_id))
    if bilan.is_failed and not rows.confirmed():
        return rows.confirm_page(
            "Relancer la génération de ce bilan ?",
            url_for("bilans.staff_retry", bilan_id=bilan.id),
            button="Oui, relancer",
            back=rows.back_url(TABLE),
            facts={
                "Bilan": f"n° {bilan.id}, « {bilan.status.label} »",
                "Élève": bilans.person_name(bilan),
                "Erreur": bilan.error_code.label if bilan.error_code else "—",
            },
        )
    try:
        retried = or_404(bilans.retry(bilan_id, current_user))
    except ServiceError as err:
        return _row(or_404(bilans.get(bilan_id)), err.message, rows.CONFLICT)
    return _row(retried, "Génération relancée : le bilan est en file d'attente.")


@bp.post("/dashboard/assistante/bilans-generes/<int:bilan_id>/revoquer")
@policy.access(policy.STAFF)
def staff_revoke(bilan_id: int) -> Any:
    """Disable the three links; the family of a ready bilan gets new ones (asks first)."""
    bilan = or_404(bilans.get(bilan_id))
    if not rows.confirmed():
        return rows.confirm_page(
            "Révoquer les liens de ce bilan ?",
            url_for("bilans.staff_revoke", bilan_id=bilan.id),
            button="Oui, révoquer les liens",
            back=rows.back_url(TABLE),
            facts={"Bilan": f"n° {bilan.id}", "Élève": bilans.person_name(bilan)},
            warning="Les liens déjà envoyés cesseront de fonctionner ; la famille reçoit de nouveaux liens "
            "si le bilan est prêt.",
            danger=True,
        )
    revoked = or_404(bilans.revoke_links(bilan_id, current_user))
    sent = " ; de nouveaux liens sont envoyés à la famille." if revoked.is_ready else "."
    notice = "Liens révoqués" + sent
    return _row(revoked, notice)
