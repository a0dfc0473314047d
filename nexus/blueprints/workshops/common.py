"""The "workshops" blueprint and what its pages share: the creation form (staff and coach), the
workshop a request is about (404 when it is not the user's to see)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from nexus.forms.workshops import StaffWorkshopForm, WorkshopForm, subject_choices
from nexus.models.common import Subject
from nexus.models.identity import CoachProfile
from nexus.models.workshops import Workshop
from nexus.services import ServiceError, parse_id, scheduling, utcnow, workshops
from nexus.text import text_problem
from nexus.web import or_404

bp = Blueprint("workshops", __name__)
REASON_MAX = 500


def visible(workshop_id: int) -> Workshop:
    """The workshop if the signed-in user may see it (staff: any; a coach: their own; a family:
    one open to their child or booked), else 404."""
    return or_404(workshops.visible_workshop(current_user, workshop_id))


# The planning service names its fields as the one-to-one booking form does.
SERVICE_FIELDS = {"matiere": "subject", "titre": "title", "places": "seats", "duree": "minutes"}
SERVICE_FIELDS |= {"semaines": "weeks", "debut": "day", "motif": "reason"}


def refused(form: WorkshopForm, err: ServiceError) -> None:
    """A service's refusal next to its field when the form has it, else on top of the page."""
    name = SERVICE_FIELDS.get(err.field or "", err.field)
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [err.message]
    else:
        flash(err.message, "error")


def reason_problem(reason: str) -> str | None:
    """Why a cancellation's reason is refused (it is sent to the families), or None."""
    if len(reason) > REASON_MAX:
        return f"{REASON_MAX} caractères au plus."
    return text_problem(reason)


# -- the creation form ---------------------------------------------------------------------------


def active_coaches(subject: Subject | None) -> list[CoachProfile]:
    """The active coaches of a subject, or of every subject (each once) when none is chosen yet."""
    if subject is not None:
        return scheduling.coaches_for(subject)
    found: dict[int, CoachProfile] = {}
    for each in Subject:
        for coach in scheduling.coaches_for(each):
            found.setdefault(coach.id, coach)
    return sorted(found.values(), key=lambda c: c.pseudonym)


def chosen_subject(values: Any) -> Subject | None:
    return Subject.__members__.get((values.get("subject") or "").strip())


def staff_form() -> tuple[StaffWorkshopForm, dict[int, CoachProfile]]:
    """The staff's form, its coach list narrowed to the subject chosen (no JavaScript needed:
    the subject comes with the posted form or the ?subject= of the page)."""
    form = StaffWorkshopForm()
    form.subject.choices = subject_choices(list(Subject))
    values = request.form if request.method == "POST" else request.args
    subject = chosen_subject(values)
    coaches = {c.id: c for c in active_coaches(subject)}
    form.coach.choices = [SelectChoice("", "Choisir…")] + [
        SelectChoice(str(c.id), f"{c.pseudonym} ({', '.join(c.subject_labels)})") for c in coaches.values()
    ]
    if request.method == "GET" and subject is not None:
        form.subject.data = subject.value
    return form, coaches


def staff_coach(form: StaffWorkshopForm, coaches: dict[int, CoachProfile]) -> CoachProfile | None:
    """The coach chosen, if they are in the list and teach the subject; else the field says why."""
    coach = coaches.get(parse_id(form.coach.data) or 0)
    if coach is None:
        form.coach.errors = ["Choisissez un coach dans la liste."]
    elif form.subject.data not in coach.subjects:
        form.coach.errors = [f"{coach.pseudonym} n'enseigne pas cette matière."]
        coach = None
    return coach


def coach_form(profile: CoachProfile) -> WorkshopForm:
    form = WorkshopForm()
    form.subject.choices = subject_choices([Subject(s) for s in profile.subjects])
    if request.method == "GET" and len(profile.subjects) == 1:
        form.subject.data = profile.subjects[0]
    return form


def form_page(form: WorkshopForm, *, back: str, status: int = 200, **context: Any) -> Any:
    return render_template("workshops/form.html", form=form, back=back, **context), status


def detail_page(workshop: Workshop, *, staff: bool) -> Any:
    """A workshop with its participants and waiting list (staff may cancel it; its coach reports)."""
    return render_template(
        "workshops/detail.html",
        w=workshop,
        participants=workshops.participants(workshop.id),
        waiting=workshops.waitlist_students(workshop.id),
        staff=staff,
        started=workshop.starts_at <= utcnow(),
    )


def create_from(form: WorkshopForm, coach: CoachProfile, detail_endpoint: str) -> Any | None:
    """Create what a valid form asks: the redirect to the first sitting, or None (the refusal set
    on the form)."""
    try:
        made = workshops.create(current_user, form.to_input(coach))
    except ServiceError as err:
        refused(form, err)
        return None
    flash(created_message(made), "success")
    return redirect(url_for(detail_endpoint, workshop_id=made[0].id), code=303)


def created_message(made: list[Workshop]) -> str:
    first = made[0]
    if len(made) == 1:
        return f"Atelier « {first.title} » programmé."
    return f"Atelier « {first.title} » programmé pour {len(made)} semaines."
