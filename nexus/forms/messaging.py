"""A new thread and a reply (the text is checked again by the service, which owns the rules)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from nexus.forms.base import Form
from nexus.forms.fields import strip

FILE_LABEL = "Pièce jointe (facultatif : PDF ou image PNG, JPEG, WebP, 5 Mo au plus)"
FILE_ACCEPT = {"accept": ".pdf,.png,.jpg,.jpeg,.webp,application/pdf,image/png,image/jpeg,image/webp"}


class ReplyForm(Form):
    # No maxlength: a pasted long text would be cut silently; the server refuses it in French.
    body = TextAreaField(
        "Votre message",
        validators=[
            DataRequired("Écrivez votre message."),
            Length(max=4000, message="4000 caractères au plus."),
        ],
        filters=[strip],
        render_kw={"rows": 4},
    )
    file = FileField(FILE_LABEL, render_kw=FILE_ACCEPT)


class NewThreadForm(ReplyForm):
    # The choices are the rules' (access.recipients_for); the service refuses anything else.
    to = SelectField("À", choices=[], validate_choice=False)
    subject = StringField(
        "Objet",
        validators=[
            DataRequired("Donnez un objet à votre message."),
            Length(max=160, message="160 caractères au plus."),
        ],
        filters=[strip],
    )
