"""Staff uploading course material for ARIA."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from nexus.forms.base import Form
from nexus.models.common import Grade, Subject


class UploadForm(Form):
    title = StringField(
        "Titre",
        validators=[
            DataRequired("Donnez un titre au document."),
            Length(max=200, message="200 caractères au plus."),
        ],
    )
    subject = SelectField("Matière", choices=Subject.choices())
    level = SelectField("Niveau", choices=Grade.choices(), default=Grade.TERMINALE.value)
    file = FileField(
        "Fichier (PDF, Markdown ou texte, 20 Mo au plus)",
        validators=[FileRequired("Choisissez un fichier.")],
        render_kw={"accept": ".pdf,.md,.markdown,.txt"},
    )
