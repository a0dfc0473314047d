"""Holiday stages: the public list, a stage's page with its reservation form (works without
JavaScript), the confirmation; for staff, the stages (create, edit) and the reservations table
(filters, status inline; its CSV export of the current filter: nexus/blueprints/exports.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from limits import parse

from nexus import policy, rows, steps
from nexus.forms.base import Form
from nexus.forms.stages import ReservationForm, StageForm
from nexus.models.common import Grade
from nexus.models.stages import ReservationStatus, Stage, StageReservation
from nexus.services import ServiceError, billing, catalog, parse_id, stages
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("stages", __name__)

SEND_LIMIT = parse("5/hour")
TOO_MANY = (
    "Plusieurs réservations ont déjà été envoyées depuis cette connexion. Réessayez dans une heure : "
    "vos réponses restent ci-dessous."
)
SESSION_KEY = "stage_reservation"
STAFF = "/dashboard/assistante/stages"
LIST, TABLE = "stages.staff_index", "stages.reservations"
CANCEL_WARNING = (
    "La place est libérée aussitôt et la famille est prévenue par e-mail. Ce changement ne se défait pas."
)
# The button that moves a reservation to each status.
STATUS_ACTIONS = {
    ReservationStatus.CONFIRMED: "Confirmer",
    ReservationStatus.PAID: "Marquer payée",
    ReservationStatus.CANCELLED: "Annuler",
    ReservationStatus.PENDING: "Proposer une place",
}


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"status_actions": STATUS_ACTIONS, "dates_label": stages.dates_label}


def _is_staff() -> bool:
    return current_user.is_authenticated and policy.is_staff(current_user)


# -- public -----------------------------------------------------------------------------------


@bp.get("/stages")
@policy.access(policy.PUBLIC)
def index() -> Any:
    return render_template("stages/index.html", listed=stages.coming_stages())


def _stage_page(stage: Stage, form: ReservationForm, status: int = 200, **context: Any) -> Any:
    return (
        render_template(
            "stages/stage.html",
            stage=stage,
            form=form,
            offer=catalog.stage_offer(stage),
            seats_left=stages.seats_left(stage),
            is_open=stages.is_open(stage),
            **context,
        ),
        status,
    )


def _to_confirmation(stage: Stage) -> Any:
    target = url_for("stages.confirmation", slug=stage.slug)
    if is_fragment_request():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


@bp.route("/stages/<slug>", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
def stage_page(slug: str) -> Any:
    stage = or_404(stages.visible_stage(slug, staff=_is_staff()))
    form = ReservationForm()
    if request.method == "GET":
        form.grade.data = stage.grade.value
        if current_user.is_authenticated and current_user.is_parent:  # the parent's own details
            form.parent_name.data = current_user.full_name
            form.email.data = current_user.email
            form.phone.data = current_user.phone
        return _stage_page(stage, form)
    if not stages.is_open(stage):
        return _stage_page(stage, form, 409, notice=stages.CLOSED)
    if not form.validate():
        return _stage_page(stage, form, 422)
    if form.website.data:  # a filled honeypot gets the same thanks, and nothing is kept
        session.pop(SESSION_KEY, None)
        return _to_confirmation(stage)
    if not steps.send_allowed(SEND_LIMIT, "stages"):
        return _stage_page(stage, form, 429, notice=TOO_MANY)
    try:
        result = stages.reserve(stage.id, form.details(), waiting_list=bool(form.liste_attente.data))
    except stages.StageFull as full:
        return _stage_page(stage, form, 409, notice=full.message, full=True)
    except ServiceError as err:
        return _stage_page(stage, form, 409, notice=err.message)
    except LookupError:
        abort(404)
    session[SESSION_KEY] = result.reservation.id
    return _to_confirmation(stage)


@bp.get("/stages/<slug>/confirmation")
@policy.access(policy.PUBLIC)
def confirmation(slug: str) -> Any:
    stage = or_404(stages.visible_stage(slug, staff=_is_staff()))
    reservation_id = session.get(SESSION_KEY)
    reservation = stages.get_reservation(reservation_id) if isinstance(reservation_id, int) else None
    if reservation is not None and reservation.stage_id != stage.id:
        reservation = None  # the browser's reservation is for another stage
    return render_template(
        "stages/confirmation.html",
        stage=stage,
        reservation=reservation,
        offer=catalog.stage_offer(stage),
        bank=billing.BANK,
    )


# -- staff: stages ----------------------------------------------------------------------------


@bp.get(STAFF)
@policy.access(policy.STAFF)
def staff_index() -> Any:
    return render_template("stages/staff_index.html", listed=stages.all_stages())


def _refused(form: Form, err: ServiceError) -> None:
    target = getattr(form, err.field, None) if err.field else None
    if target is not None:
        target.errors = [err.message]
    else:
        flash(err.message, "error")


@bp.route(f"{STAFF}/nouveau", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def create() -> Any:
    form = StageForm()
    if request.method == "GET":
        form.grade.data = Grade.TERMINALE.value
        return render_template("stages/form.html", form=form, stage=None)
    if form.validate():
        try:
            stage = stages.create_stage(form.fields_data(), current_user)
        except ServiceError as err:
            _refused(form, err)
        else:
            flash(f"Stage « {stage.title} » créé.", "success")
            return redirect(url_for(LIST), code=303)
    return render_template("stages/form.html", form=form, stage=None), 422


@bp.route(f"{STAFF}/<int:stage_id>/modifier", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def edit(stage_id: int) -> Any:
    stage = or_404(stages.get_stage(stage_id))
    form = StageForm()
    if request.method == "GET":
        form.fill_from(stage)
        return render_template("stages/form.html", form=form, stage=stage)
    if form.validate():
        try:
            updated = stages.update_stage(stage_id, form.fields_data(), current_user)
        except ServiceError as err:
            _refused(form, err)
        else:
            if updated is None:
                abort(404)
            flash(f"Stage « {updated.title} » enregistré.", "success")
            return redirect(url_for(LIST), code=303)
    stage = or_404(stages.get_stage(stage_id))
    return render_template("stages/form.html", form=form, stage=stage), 422


# -- staff: reservations ----------------------------------------------------------------------


def _filters() -> tuple[str, int | None, str]:
    filter_key = request.args.get("filtre", "actives")
    if filter_key not in stages.RESERVATION_FILTERS:
        filter_key = "actives"
    stage_id = parse_id(request.args.get("stage"))
    return filter_key, stage_id, request.args.get("q", "").strip()[:100]


@bp.get(f"{STAFF}/reservations")
@policy.access(policy.STAFF)
def reservations() -> Any:
    filter_key, stage_id, query = _filters()
    context = {
        "page": stages.list_reservations(filter_key, stage_id, query, page_arg()),
        "filters": stages.RESERVATION_FILTERS,
        "filter_key": filter_key,
        "stage_id": stage_id,
        "q": query,
        "stage_choices": [("", "Tous les stages")]
        + [(str(s.stage.id), s.stage.title) for s in stages.all_stages()],
        "back_url": request.full_path.rstrip("?"),
        "pending_count": stages.pending_count(),
    }
    context["free"] = _free_seats(context["page"].items)
    if is_fragment_request():
        return render_template("stages/_reservations_table.html", **context)
    return render_template("stages/reservations.html", **context)


def _free_seats(reservations: list[StageReservation]) -> dict[int, int]:
    """Seats left per stage of these rows: a seat is offered from the waiting list only if one is."""
    found = {r.stage_id: r.stage for r in reservations}
    return {stage_id: stages.seats_left(stage) for stage_id, stage in found.items()}


def _status(name: str) -> ReservationStatus | None:
    value = request.form.get(name, "")
    return ReservationStatus(value) if value in ReservationStatus.__members__ else None


@bp.post(f"{STAFF}/reservations/<int:reservation_id>/statut")
@policy.access(policy.STAFF)
def reservation_status(reservation_id: int) -> Any:
    """Move a reservation on; a cancellation asks first (a page without JavaScript)."""
    reservation = or_404(stages.get_reservation(reservation_id))
    expected, target = _status("expected"), _status("status")
    if expected is None or target is None:
        return _answer(reservation, "Statut inconnu : rechargez la page.", rows.REFUSED)
    asks_first = target is ReservationStatus.CANCELLED
    if (
        asks_first
        and not rows.confirmed()
        and reservation.status is expected
        and target in reservation.next_statuses
    ):
        return _confirm_cancel(reservation)
    try:
        change = stages.change_status(reservation_id, expected, target, current_user)
    except ServiceError as err:
        return _answer(stages.get_reservation(reservation_id) or reservation, err.message, rows.REFUSED)
    if change is None:
        abort(404)
    reservation = change.reservation
    notice, status = rows.status_notice(change.changed, reservation.status, target, "cette réservation")
    return _answer(reservation, notice, status)


def _confirm_cancel(reservation: StageReservation) -> Any:
    return rows.confirm_page(
        "Annuler cette réservation ?",
        url_for("stages.reservation_status", reservation_id=reservation.id),
        button="Oui, annuler la réservation",
        back=rows.back_url(TABLE),
        facts={
            "Stage": reservation.stage.title,
            "Élève": reservation.student_name,
            "Parent": f"{reservation.parent_name} · {reservation.phone}",
            "Statut": reservation.status.label,
            "Référence": reservation.reference,
        },
        warning=CANCEL_WARNING,
        fields={"expected": reservation.status.value, "status": ReservationStatus.CANCELLED.value},
        danger=True,
    )


def _answer(reservation: StageReservation, notice: str, status: int) -> Any:
    return rows.answer(
        "stages/_reservation_row.html",
        notice,
        back=TABLE,
        status=status,
        r=reservation,
        back_url=rows.back_url(TABLE),
        free=_free_seats([reservation]),
    )
