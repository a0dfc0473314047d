"""The free-assessment request (/bilan-gratuit), one question group (step) at a time."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, StopValidation

from nexus.forms.base import Form
from nexus.forms.fields import CHOOSE, EMAIL, NAME, PHONE, REQUIRED, SubjectsField
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import Modality
from nexus.services import diagnostics

STEP_FIELDS: dict[int, tuple[str, ...]] = {
    1: ("parent_first_name", "parent_last_name", "parent_email", "parent_phone"),
    2: ("student_first_name", "student_last_name", "grade", "school"),
    3: ("subjects", "current_level", "objectives", "difficulties", "modality", "availability"),
    4: ("accept_terms", "accept_newsletter"),
}


def _at_least_one(form: Form, field: SubjectsField) -> None:
    if not field.data:
        raise StopValidation("Choisissez au moins une matière.")
    if any(value not in Subject.__members__ for value in field.data):
        raise StopValidation(CHOOSE)


class BilanForm(Form):
    parent_first_name = StringField("Votre prénom", validators=[DataRequired(REQUIRED), NAME])
    parent_last_name = StringField("Votre nom", validators=[DataRequired(REQUIRED), NAME])
    parent_email = EmailField("Votre e-mail", validators=[DataRequired(REQUIRED), EMAIL, Length(max=254)])
    parent_phone = TelField("Votre téléphone", validators=[DataRequired(REQUIRED), PHONE])
    student_first_name = StringField("Prénom de l'élève", validators=[DataRequired(REQUIRED), NAME])
    student_last_name = StringField("Nom de l'élève", validators=[DataRequired(REQUIRED), NAME])
    grade = RadioField(
        "Classe",
        choices=Grade.choices(),
        validate_choice=False,
        validators=[DataRequired("Choisissez la classe."), AnyOf([g.value for g in Grade], CHOOSE)],
    )
    school = StringField("Établissement (facultatif)", validators=[Optional(), Length(max=120)])
    subjects = SubjectsField(
        "Matières à travailler", choices=Subject.choices(), validate_choice=False, validators=[_at_least_one]
    )
    current_level = SelectField(
        "Niveau actuel dans ces matières",
        choices=[("", "— Choisir —"), *((level, level) for level in diagnostics.LEVELS)],
        validate_choice=False,
        validators=[DataRequired("Choisissez un niveau."), AnyOf(diagnostics.LEVELS, CHOOSE)],
    )
    objectives = TextAreaField(
        "Objectifs",
        validators=[
            DataRequired(REQUIRED),
            Length(10, 2000, "Décrivez vos objectifs en 10 à 2 000 caractères."),
        ],
    )
    difficulties = TextAreaField(
        "Difficultés rencontrées (facultatif)",
        validators=[Optional(), Length(max=2000, message="2 000 caractères au plus.")],
    )
    modality = RadioField(
        "Modalité souhaitée",
        choices=Modality.choices(),
        validate_choice=False,
        validators=[DataRequired("Choisissez une modalité."), AnyOf([m.value for m in Modality], CHOOSE)],
    )
    availability = StringField(
        "Disponibilités (facultatif)",
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
    )
    accept_terms = BooleanField(
        Markup(
            # One span: the label is a flex row, and a bare link would become a column of its own.
            "<span>J'accepte que Nexus Réussite conserve ces informations pour me recontacter au sujet "
            'de ce bilan (voir les <a href="/mentions-legales">mentions légales</a>).</span>'
        ),
        validators=[DataRequired("Cochez cette case pour envoyer la demande.")],
    )
    accept_newsletter = BooleanField("Je souhaite recevoir les actualités de Nexus Réussite (facultatif)")
    # Left empty by people; bots fill it in.
    website = StringField("Ne pas remplir", validators=[Optional()])

    def validate_step(self, step: int) -> bool:
        """Validate the fields of one step only (every field, so every error shows)."""
        results = [self[name].validate(self) for name in STEP_FIELDS[step]]
        return all(results)

    def first_invalid_step(self, up_to: int) -> int | None:
        """The first step (1..up_to) with an error; earlier steps come back as hidden fields."""
        return next((step for step in range(1, up_to + 1) if not self.validate_step(step)), None)

    def carried(self, shown: int) -> list[tuple[str, str]]:
        """(name, value) of every answer outside the shown step, as sent, for hidden inputs."""
        return [
            (name, value)
            for step, names in STEP_FIELDS.items()
            if step != shown
            for name in names
            for value in (self[name].raw_data or [])
        ]

    def focus(self, step: int) -> str:
        """The field to focus after a swap: the first with an error, else the step's first."""
        names = STEP_FIELDS[step]
        return next((name for name in names if self[name].errors), names[0])

    def answers(self) -> diagnostics.BilanAnswers:
        return diagnostics.BilanAnswers(
            parent_first_name=self.parent_first_name.data or "",
            parent_last_name=self.parent_last_name.data or "",
            parent_email=self.parent_email.data or "",
            parent_phone=self.parent_phone.data or "",
            student_first_name=self.student_first_name.data or "",
            student_last_name=self.student_last_name.data or "",
            grade=Grade(self.grade.data),
            school=self.school.data,
            subjects=[Subject(s) for s in self.subjects.data or []],
            current_level=self.current_level.data,
            objectives=self.objectives.data,
            difficulties=self.difficulties.data,
            modality=Modality(self.modality.data),
            availability=self.availability.data,
            accept_newsletter=bool(self.accept_newsletter.data),
        )

    def summary(self) -> list[tuple[int, list[tuple[str, str]]]]:
        """The answers of steps 1-3 in French, for the last step's recap."""

        def label(enum: Any, value: str | None) -> str:
            try:
                return enum(value).label
            except ValueError:
                return "—"

        return [
            (
                1,
                [
                    ("Nom", f"{self.parent_first_name.data} {self.parent_last_name.data}"),
                    ("E-mail", self.parent_email.data or ""),
                    ("Téléphone", self.parent_phone.data or ""),
                ],
            ),
            (
                2,
                [
                    ("Nom", f"{self.student_first_name.data} {self.student_last_name.data}"),
                    ("Classe", label(Grade, self.grade.data)),
                    ("Établissement", self.school.data or "—"),
                ],
            ),
            (
                3,
                [
                    ("Matières", ", ".join(label(Subject, s) for s in self.subjects.data or [])),
                    ("Niveau", self.current_level.data or "—"),
                    ("Objectifs", self.objectives.data or "—"),
                    ("Difficultés", self.difficulties.data or "—"),
                    ("Modalité", label(Modality, self.modality.data)),
                    ("Disponibilités", self.availability.data or "—"),
                ],
            ),
        ]
