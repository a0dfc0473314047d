"""The stage reservation (public) and the stage's form (staff)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, StopValidation, ValidationError

from nexus.forms.base import Form
from nexus.forms.fields import CHOOSE, EMAIL, EMAIL_LENGTH, REQUIRED, Phone, SubjectsField, strip
from nexus.models.common import Grade, Subject
from nexus.models.stages import Stage
from nexus.numbers import parse_count, parse_tnd
from nexus.services import stages
from nexus.services.stages.offers import MAX_SEATS

FULL_NAME = Length(3, 100, "Entre 3 et 100 caractères.")


class ReservationForm(Form):
    parent_name = StringField(
        "Nom et prénom du parent", filters=[strip], validators=[DataRequired(REQUIRED), FULL_NAME]
    )
    student_name = StringField(
        "Nom et prénom de l'élève", filters=[strip], validators=[DataRequired(REQUIRED), FULL_NAME]
    )
    email = EmailField("E-mail", filters=[strip], validators=[DataRequired(REQUIRED), EMAIL, EMAIL_LENGTH])
    phone = TelField("Téléphone", filters=[strip], validators=[DataRequired(REQUIRED), Phone()])
    grade = RadioField(
        "Classe de l'élève",
        choices=Grade.choices(),
        validate_choice=False,
        validators=[DataRequired("Choisissez la classe."), AnyOf([g.value for g in Grade], CHOOSE)],
    )
    # Set by the "liste d'attente" button shown when the stage is full.
    liste_attente = BooleanField("M'inscrire sur la liste d'attente si le stage est complet")
    # Left empty by people; bots fill it in.
    website = StringField("Ne pas remplir", validators=[Optional()])

    def details(self) -> stages.ReservationDetails:
        return stages.ReservationDetails(
            parent_name=self.parent_name.data or "",
            student_name=self.student_name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or "",
            grade=Grade(self.grade.data),
        )


def _known_subjects(form: Form, field: SubjectsField) -> None:
    field.data = [value for value in field.data or [] if value]
    if not field.data:
        raise StopValidation("Choisissez au moins une matière.")
    if any(value not in Subject.__members__ for value in field.data):
        raise StopValidation("Choisissez les matières dans la liste.")


def _price(form: Form, field: StringField) -> None:
    amount = parse_tnd(field.data)
    if amount is None or amount <= 0:
        raise StopValidation("Indiquez un prix en dinars, par exemple 450 ou 450,500.")


def _seats(form: Form, field: StringField) -> None:
    if parse_count(field.data, 1, MAX_SEATS) is None:
        raise StopValidation(f"Indiquez un nombre de places entre 1 et {MAX_SEATS}.")


class StageForm(Form):
    title = StringField(
        "Titre",
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(3, 160, "Entre 3 et 160 caractères.")],
    )
    description = TextAreaField(
        "Présentation (facultatif)",
        filters=[strip],
        validators=[Optional(), Length(max=4000, message="4 000 caractères au plus.")],
    )
    starts_on = DateField("Premier jour", validators=[DataRequired("Indiquez une date valide.")])
    ends_on = DateField("Dernier jour", validators=[DataRequired("Indiquez une date valide.")])
    grade = SelectField(
        "Niveau",
        choices=Grade.choices(),
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf([g.value for g in Grade], CHOOSE)],
    )
    subjects = SubjectsField(
        "Matières", choices=Subject.choices(), validate_choice=False, validators=[_known_subjects]
    )
    price = StringField("Prix (TND)", filters=[strip], validators=[DataRequired(REQUIRED), _price])
    seats = StringField("Nombre de places", filters=[strip], validators=[DataRequired(REQUIRED), _seats])
    published = BooleanField("Publié : visible sur la page « Stages » et ouvert aux réservations")

    def validate_ends_on(self, field: DateField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("La fin du stage ne peut pas précéder son début.")

    def fields_data(self) -> stages.StageFields:
        return stages.StageFields(
            title=self.title.data or "",
            description=self.description.data or "",
            starts_on=self.starts_on.data,  # type: ignore[arg-type]
            ends_on=self.ends_on.data,  # type: ignore[arg-type]
            grade=Grade(self.grade.data),
            subjects=[Subject(s) for s in self.subjects.data or []],
            price_millimes=parse_tnd(self.price.data) or 0,
            seats=parse_count(self.seats.data, 1, MAX_SEATS) or 0,
            published=bool(self.published.data),
        )

    def fill_from(self, stage: Stage) -> None:
        self.title.data = stage.title
        self.description.data = stage.description
        self.starts_on.data = stage.starts_on
        self.ends_on.data = stage.ends_on
        self.grade.data = stage.grade.value
        self.subjects.data = list(stage.subjects)
        self.price.data = _dinars(stage.price_millimes)
        self.seats.data = str(stage.seats)
        self.published.data = stage.published


def _dinars(millimes: int) -> str:
    """450000 → '450', 450500 → '450,5' (as typed back into the form)."""
    dinars, rest = divmod(millimes, 1000)
    return f"{dinars},{rest:03d}".rstrip("0") if rest else str(dinars)
