"""The parent's forms: adding a child, a child's details, the family's second parent."""

from __future__ import annotations

from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, NAME, REQUIRED, Phone
from nexus.models.common import Grade


class ChildForm(Form):
    first_name = StringField("Prénom", validators=[DataRequired(REQUIRED), Length(2, 80)])
    last_name = StringField("Nom", validators=[DataRequired(REQUIRED), Length(2, 80)])
    grade = SelectField("Classe", choices=Grade.choices(), validators=[DataRequired(REQUIRED)])
    school = StringField("Établissement (facultatif)", validators=[Optional(), Length(max=120)])
    email = EmailField("E-mail de l'élève (facultatif)", validators=[Optional(), EMAIL, Length(max=254)])


class ChildEditForm(Form):
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), NAME])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), NAME])
    grade = SelectField(
        "Classe",
        choices=Grade.choices(),
        validate_choice=False,
        validators=[
            DataRequired("Choisissez la classe."),
            AnyOf([g.value for g in Grade], "Choisissez une classe dans la liste."),
        ],
    )


class CoParentForm(Form):
    """The second parent; its own ids, since it shares the page with the add-a-child form."""

    first_name = StringField(
        "Prénom", id="co-first-name", validators=[DataRequired("Indiquez le prénom."), NAME]
    )
    last_name = StringField("Nom", id="co-last-name", validators=[DataRequired("Indiquez le nom."), NAME])
    email = EmailField(
        "E-mail",
        id="co-email",
        validators=[DataRequired("Indiquez son adresse e-mail."), EMAIL, EMAIL_LENGTH],
    )
    phone = TelField("Téléphone (facultatif)", id="co-phone", validators=[Optional(), Phone()])
