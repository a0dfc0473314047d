"""The coach's session report."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from nexus.forms.base import Form
from nexus.forms.fields import REQUIRED
from nexus.models.scheduling import EngagementLevel
from nexus.services.scheduling import ReportInput


def _text(label: str, minimum: int, maximum: int = 4000) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(minimum, maximum, message=f"Entre {minimum} et {maximum} caractères."),
        ],
    )


def _optional_text(label: str) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=2000, message="2000 caractères au plus.")])


class ReportForm(Form):
    summary = _text("Résumé de la séance", 20)
    topics = _text("Notions travaillées", 10)
    rating = SelectField(
        "Appréciation (1 à 5)",
        choices=[SelectChoice("", "Choisir…")] + [SelectChoice(str(n), f"{n} / 5") for n in range(5, 0, -1)],
        validators=[DataRequired("Choisissez une appréciation de 1 à 5.")],
    )
    progress_notes = _text("Progrès constatés", 10)
    recommendations = _text("Recommandations", 10)
    attended = BooleanField("L'élève était présent(e)", default=True)
    engagement = SelectField(
        "Engagement (facultatif)",
        choices=[SelectChoice("", "—"), *(SelectChoice(v, label) for v, label in EngagementLevel.choices())],
        validators=[Optional()],
    )
    homework = _optional_text("Travail à faire (facultatif)")
    next_focus = _optional_text("Objectif de la prochaine séance (facultatif)")

    def to_input(self) -> ReportInput:
        return ReportInput(
            summary=self.summary.data or "",
            topics=self.topics.data or "",
            rating=int(self.rating.data or 0),
            progress_notes=self.progress_notes.data or "",
            recommendations=self.recommendations.data or "",
            attended=bool(self.attended.data),
            engagement=EngagementLevel(self.engagement.data) if self.engagement.data else None,
            homework=self.homework.data,
            next_focus=self.next_focus.data,
        )
