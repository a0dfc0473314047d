"""The admin's account forms: a new account (with a parent's children), an account's details."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from nexus.forms.base import Form
from nexus.forms.family import ChildrenMixin, children_list
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, NAME, Phone, strip
from nexus.models.common import Role
from nexus.services import accounts, family


class PersonFields(Form):
    first_name = StringField(
        "Prénom", filters=[strip], validators=[DataRequired("Indiquez le prénom."), NAME]
    )
    last_name = StringField("Nom", filters=[strip], validators=[DataRequired("Indiquez le nom."), NAME])
    phone = TelField("Téléphone (facultatif)", filters=[strip], validators=[Optional(), Phone()])


class NewAccountForm(ChildrenMixin, PersonFields):
    """An admin, assistante or parent (with children); the person chooses a password later."""

    role = SelectField(
        "Profil du compte",
        choices=[("", "— Choisir —"), *((r.value, r.label) for r in accounts.CREATABLE_ROLES)],
        validate_choice=False,
        validators=[
            DataRequired("Choisissez le profil du compte."),
            AnyOf([r.value for r in accounts.CREATABLE_ROLES], "Choisissez un profil dans la liste."),
        ],
    )
    email = EmailField(
        "E-mail (identifiant de connexion)",
        filters=[strip],
        validators=[DataRequired("Indiquez l'adresse e-mail."), EMAIL, EMAIL_LENGTH],
    )
    children = children_list(minimum=0)
    min_children = 0
    password = PasswordField(
        "Votre mot de passe (pour confirmer)", validators=[Length(max=128, message="128 caractères au plus.")]
    )

    def check(self) -> bool:
        """Validate; the children count for a parent only (blank groups dropped)."""
        results = [f.validate(self) for name, f in self._fields.items() if name != "children"]
        ok = all(results)  # every field checked, every error shown
        if self.role.data == Role.ADMIN.value and not self.password.data:
            self.password.errors = ["Saisissez votre mot de passe pour créer un administrateur."]
            ok = False
        if self.role.data != Role.PARENT.value:
            return ok  # children concern parents only; shown again as typed
        typed = list(self.children.entries)
        ok = self.check_children() and ok
        if not self.children.entries:
            self.children.entries = typed  # all blank: the blank group is shown again
        return ok

    def kids(self) -> list[family.ChildDraft]:
        """The children to create: a parent's filled groups, nobody's for other roles."""
        if self.role.data != Role.PARENT.value:
            return []
        return [e.form.draft() for e in self.children.entries if not e.form.is_blank()]

    def draft(self) -> accounts.AccountDraft:
        return accounts.AccountDraft(
            role=Role(self.role.data),
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            phone=self.phone.data,
        )


class AccountForm(PersonFields):
    """Name and phone change at once; a new e-mail only once confirmed from that address."""

    email = EmailField(
        "E-mail (identifiant de connexion)", filters=[strip], validators=[Optional(), EMAIL, EMAIL_LENGTH]
    )
