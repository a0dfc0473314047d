"""Staff opening a family space from a bilan request or a contact message."""

from __future__ import annotations

from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Optional

from nexus.forms.base import Form
from nexus.forms.family import ChildrenMixin, children_list
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, NAME, Phone
from nexus.services.family import ParentDraft


class OpenFamilyForm(ChildrenMixin, Form):
    """What will be created, from the request's answers, as staff confirm or correct it."""

    first_name = StringField("Prénom du parent", validators=[DataRequired("Indiquez le prénom."), NAME])
    last_name = StringField("Nom du parent", validators=[DataRequired("Indiquez le nom."), NAME])
    email = EmailField(
        "E-mail du parent",
        validators=[DataRequired("Indiquez l'adresse e-mail."), EMAIL, EMAIL_LENGTH],
    )
    phone = TelField("Téléphone (facultatif)", validators=[Optional(), Phone()])
    children = children_list(minimum=1)

    def parent_draft(self) -> ParentDraft:
        return ParentDraft(
            first_name=(self.first_name.data or "").strip(),
            last_name=(self.last_name.data or "").strip(),
            email=(self.email.data or "").strip(),
            phone=(self.phone.data or "").strip() or None,
        )


class ContactFamilyForm(OpenFamilyForm):
    """From a contact message nothing is known of the children: a family may start without."""

    min_children = 0
    children = children_list(minimum=0)
