"""The assistante's form for a coach: account, public profile, subjects, modalities."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, PHONE, REQUIRED, SubjectsField, strip
from nexus.models.common import Subject
from nexus.models.identity import CoachProfile
from nexus.services import coaching


def _line(label: str, maximum: int, *, required: bool = False, minimum: int = 0) -> StringField:
    first = DataRequired(REQUIRED) if required else Optional()
    if minimum:
        size = Length(minimum, maximum, f"Entre {minimum} et {maximum} caractères.")
    else:
        size = Length(max=maximum, message=f"{maximum} caractères au plus.")
    return StringField(label, filters=[strip], validators=[first, size])


def _text(label: str) -> TextAreaField:
    too_long = Length(max=2000, message="2 000 caractères au plus.")
    return TextAreaField(label, filters=[strip], validators=[Optional(), too_long])


def _known_subjects(form: Form, field: SubjectsField) -> None:
    if not field.data:
        raise StopValidation("Choisissez au moins une matière.")
    if any(value not in Subject.__members__ for value in field.data):
        raise StopValidation("Choisissez les matières dans la liste.")


class CoachForm(Form):
    first_name = _line("Prénom", 80, required=True, minimum=2)
    last_name = _line("Nom", 80, required=True, minimum=2)
    email = EmailField(
        "E-mail (identifiant de connexion)",
        filters=[strip],
        validators=[DataRequired(REQUIRED), EMAIL, EMAIL_LENGTH],
    )
    phone = TelField("Téléphone (facultatif)", filters=[strip], validators=[Optional(), PHONE])
    pseudonym = _line("Pseudonyme (affiché aux familles)", 60, required=True, minimum=2)
    title = _line("Titre (facultatif)", 80)
    tag = _line("Étiquette courte (facultatif)", 80)
    subjects = SubjectsField(
        "Matières enseignées", choices=Subject.choices(), validate_choice=False, validators=[_known_subjects]
    )
    available_online = BooleanField("Séances en ligne", default=True)
    available_in_person = BooleanField("Séances au centre", default=True)
    description = _text("Présentation (facultatif)")
    philosophy = _text("Philosophie pédagogique (facultatif)")
    expertise = _text("Expertise (facultatif)")

    def validate_available_in_person(self, field: BooleanField) -> None:
        if not field.data and not self.available_online.data:
            raise StopValidation("Cochez au moins une modalité : en ligne ou au centre.")

    def fields_data(self) -> coaching.CoachFields:
        return coaching.CoachFields(
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            pseudonym=self.pseudonym.data or "",
            subjects=[Subject(value) for value in self.subjects.data or []],
            title=self.title.data,
            tag=self.tag.data,
            description=self.description.data,
            philosophy=self.philosophy.data,
            expertise=self.expertise.data,
            phone=self.phone.data,
            available_online=bool(self.available_online.data),
            available_in_person=bool(self.available_in_person.data),
        )

    def fill_from(self, profile: CoachProfile) -> None:
        """Show the coach as saved (a GET of the edit page)."""
        user = profile.user
        for name in ("first_name", "last_name", "email", "phone"):
            if getattr(self, name, None) is not None:
                getattr(self, name).data = getattr(user, name)
        for name in (*coaching.PROFILE_TEXTS, "pseudonym", "available_online", "available_in_person"):
            getattr(self, name).data = getattr(profile, name)
        self.subjects.data = list(profile.subjects)
