"""Group workshops: the creation form (staff choose the coach, a coach creates their own) and the
coach's group report (the one-to-one report's shared fields, then each participant's part)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, StopValidation, ValidationError

from nexus import fr
from nexus.forms.base import Form
from nexus.forms.coach import ReportForm
from nexus.forms.fields import CHOOSE, REQUIRED, strip
from nexus.models.common import Grade, Subject
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import MAX_SEATS, MIN_SEATS
from nexus.numbers import parse_count
from nexus.services import utcnow, workshops
from nexus.services.workshops.report import NOTE_MAX, SharedReport
from nexus.text import text_problem

DURATIONS = (60, 90, 120)
MAX_WEEKS = 12
AHEAD = timedelta(days=366)  # a workshop is planned at most a year ahead
ONLINE, CENTRE = "en_ligne", "centre"


def _seats(form: Form, field: StringField) -> None:
    if parse_count(field.data, MIN_SEATS, MAX_SEATS) is None:
        raise StopValidation(f"Indiquez un nombre de places entre {MIN_SEATS} et {MAX_SEATS}.")


def _weeks(form: Form, field: StringField) -> None:
    if parse_count(field.data, 1, MAX_WEEKS) is None:
        raise StopValidation(f"Indiquez un nombre de semaines entre 1 et {MAX_WEEKS}.")


class WorkshopForm(Form):
    """A coach's own workshop (the coach is themself); StaffWorkshopForm adds the coach."""

    subject = SelectField(
        "Matière",
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf(list(Subject.__members__), CHOOSE)],
    )
    grade = SelectField(
        "Niveau",
        choices=[SelectChoice("", "Choisir…"), *(SelectChoice(v, label) for v, label in Grade.choices())],
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf(list(Grade.__members__), CHOOSE)],
    )
    title = StringField(
        "Titre",
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(3, 120, "Entre 3 et 120 caractères.")],
    )
    description = TextAreaField(
        "Présentation (facultatif)",
        filters=[strip],
        validators=[Optional(), Length(max=4000, message="4 000 caractères au plus.")],
    )
    day = DateField("Date", validators=[DataRequired("Indiquez une date valide.")])
    start = TimeField(
        "Heure de début (heure de Tunis)", validators=[DataRequired("Indiquez une heure valide.")]
    )
    minutes = SelectField(
        "Durée",
        choices=[SelectChoice(str(m), fr.duration(m)) for m in DURATIONS],
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf([str(m) for m in DURATIONS], CHOOSE)],
    )
    place = RadioField(
        "Lieu",
        choices=[SelectChoice(ONLINE, "En ligne (visioconférence)"), SelectChoice(CENTRE, "Au centre")],
        default=ONLINE,
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf([ONLINE, CENTRE], CHOOSE)],
    )
    seats = StringField(
        f"Nombre de places ({MIN_SEATS} à {MAX_SEATS})",
        default="6",
        filters=[strip],
        validators=[DataRequired(REQUIRED), _seats],
    )
    weeks = StringField(
        f"Répéter chaque semaine pendant N semaines (1 à {MAX_WEEKS})",
        default="1",
        filters=[strip],
        validators=[DataRequired(REQUIRED), _weeks],
    )

    def validate_day(self, field: DateField) -> None:
        today = fr.local_today(utcnow())
        if field.data and not today <= field.data <= today + AHEAD:
            raise ValidationError("Choisissez une date entre aujourd'hui et dans un an.")

    def starts_at(self) -> datetime:
        day: date = self.day.data  # type: ignore[assignment]
        return datetime.combine(day, self.start.data, tzinfo=fr.TUNIS)  # type: ignore[arg-type]

    def to_input(self, coach: CoachProfile) -> workshops.WorkshopInput:
        return workshops.WorkshopInput(
            coach=coach,
            subject=Subject(self.subject.data),
            grade=Grade(self.grade.data),
            title=self.title.data or "",
            description=self.description.data or "",
            starts_at=self.starts_at(),
            minutes=int(self.minutes.data or DURATIONS[0]),
            online=self.place.data == ONLINE,
            seats=parse_count(self.seats.data, MIN_SEATS, MAX_SEATS) or 0,
            weeks=parse_count(self.weeks.data, 1, MAX_WEEKS) or 1,
        )


class StaffWorkshopForm(WorkshopForm):
    coach = SelectField("Coach", validate_choice=False, validators=[DataRequired(CHOOSE)])


def subject_choices(subjects: list[Subject]) -> list[SelectChoice]:
    return [SelectChoice("", "Choisir…"), *(SelectChoice(s.value, s.label) for s in subjects)]


# -- the group report --------------------------------------------------------------------------


class GroupReportForm(Form):
    """The shared part: the same fields, names and checks as the one-to-one report."""

    summary = ReportForm.summary
    topics = ReportForm.topics
    recommendations = ReportForm.recommendations
    homework = ReportForm.homework
    next_focus = ReportForm.next_focus

    def shared(self) -> SharedReport:
        return SharedReport(
            summary=self.summary.data or "",
            topics=self.topics.data or "",
            recommendations=self.recommendations.data or "",
            homework=self.homework.data,
            next_focus=self.next_focus.data,
        )


@dataclass
class ParticipantParts:
    """Each participant's part, keyed by their seat (booking id), with the errors by field name."""

    attendance: dict[int, bool]
    ratings: dict[int, int]
    notes: dict[int, str]
    errors: dict[str, str]


def participant_parts(values: Any, seats: list[SessionBooking]) -> ParticipantParts:
    """Read present_<id>, rating_<id>, note_<id> for each seat (absent when not ticked)."""
    parts = ParticipantParts({}, {}, {}, {})
    for seat in seats:
        parts.attendance[seat.id] = values.get(f"present_{seat.id}") in ("y", "on", "1")
        raw = (values.get(f"rating_{seat.id}") or "").strip()
        if raw in ("1", "2", "3", "4", "5"):
            parts.ratings[seat.id] = int(raw)
        else:
            parts.errors[f"rating_{seat.id}"] = "Choisissez une appréciation de 1 à 5."
        note = (values.get(f"note_{seat.id}") or "").strip()
        problem = text_problem(note) or (f"{NOTE_MAX} caractères au plus." if len(note) > NOTE_MAX else None)
        if problem:
            parts.errors[f"note_{seat.id}"] = problem
        parts.notes[seat.id] = note
    return parts
