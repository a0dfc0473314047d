"""Forms of the staff inbox, message reports and e-mail preferences."""

from __future__ import annotations

from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from nexus.forms.base import Form
from nexus.forms.fields import strip

REPLY_MAX = 5000
REASON_MAX = 500


class PreferencesForm(Form):
    """The ticked events; the choices are those of the user's role (set by the view)."""

    events = SelectMultipleField(
        "E-mails que je souhaite recevoir",
        choices=[],
        validate_choice=True,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class ReplyForm(Form):
    """A staff answer to a contact message or a bilan request."""

    subject = StringField(
        "Objet",
        filters=[strip],
        validators=[DataRequired("Indiquez l'objet de la conversation."), Length(max=160)],
    )
    body = TextAreaField(
        "Votre réponse",
        filters=[strip],
        validators=[
            DataRequired("Écrivez votre réponse."),
            Length(max=REPLY_MAX, message=f"{REPLY_MAX} caractères au plus."),
        ],
    )


class ReportForm(Form):
    """Why a message is reported to the staff."""

    reason = TextAreaField(
        "Pourquoi signalez-vous ce message ?",
        filters=[strip],
        validators=[
            InputRequired("Indiquez la raison du signalement."),
            DataRequired("Indiquez la raison du signalement."),
            Length(min=5, max=REASON_MAX, message=f"Entre 5 et {REASON_MAX} caractères."),
        ],
    )
