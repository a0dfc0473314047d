"""Staff filing a document in a family's or a student's vault (the service checks the file)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from nexus.forms.base import Form
from nexus.forms.fields import strip
from nexus.models.vault import UPLOAD_KINDS

FILE_LABEL = "Fichier (10 Mo au plus)"
FILE_ACCEPT = {
    "accept": ".pdf,.png,.jpg,.jpeg,.webp,.docx,.xlsx,.odt,.ods,application/pdf,image/png,image/jpeg,"
    "image/webp,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet"
}


class VaultUploadForm(Form):
    # Whose vault: typed (a name or an address, resolved by the service) or chosen in the search,
    # which fills it in and sets `owner`.
    person = StringField(
        "Personne (parent ou élève : nom ou e-mail)",
        validators=[
            DataRequired("Indiquez le parent ou l'élève : nom ou adresse e-mail."),
            Length(max=200, message="200 caractères au plus."),
        ],
        filters=[strip],
        render_kw={"maxlength": 200, "autocomplete": "off"},
    )
    owner = HiddenField()
    title = StringField(
        "Titre",
        validators=[
            DataRequired("Donnez un titre au document."),
            Length(max=200, message="200 caractères au plus."),
        ],
        filters=[strip],
        render_kw={"maxlength": 200},
    )
    kind = SelectField(
        "Type de document",
        choices=[(kind.value, kind.label) for kind in UPLOAD_KINDS],
        default=UPLOAD_KINDS[0].value,
    )
    # Not FileRequired: the service says why a file is refused (missing, empty, too big, wrong type).
    file = FileField(FILE_LABEL, render_kw=FILE_ACCEPT)
