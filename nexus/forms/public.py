"""The public contact form."""

from __future__ import annotations

from wtforms import EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, PHONE, REQUIRED, TOO_LONG
from nexus.services import contact


class ContactForm(Form):
    name = StringField(
        "Nom et prénom",
        validators=[DataRequired(REQUIRED), Length(2, 120, "Indiquez entre 2 et 120 caractères.")],
    )
    email = EmailField(
        "E-mail", validators=[DataRequired(REQUIRED), EMAIL, Length(max=254, message=TOO_LONG)]
    )
    phone = TelField("Téléphone (facultatif)", validators=[Optional(), PHONE])
    topic = SelectField(
        "Sujet",
        choices=list(contact.TOPICS.items()),
        validators=[DataRequired(REQUIRED)],
        invalid_choice_message="Choisissez un sujet dans la liste.",
    )
    message = TextAreaField(
        "Votre message",
        validators=[
            DataRequired(REQUIRED),
            Length(10, 4000, "Votre message doit faire entre 10 et 4 000 caractères."),
        ],
    )
    # Left empty by people; bots fill it in.
    website = StringField("Ne pas remplir", validators=[Optional()])
