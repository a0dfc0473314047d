"""The base of every form: Flask-WTF's CSRF, WTForms' own French messages, no control characters."""

from __future__ import annotations

from typing import Any

import phonenumbers
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    FieldList,
    FormField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, ValidationError

from nexus.models.common import Grade
from nexus.services.family import ChildDraft
from nexus.text import line_problem, text_problem


class NoControlCharacters:
    """Refuse control characters: all of them on one line, all but line breaks and tabs in a text."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str):
            problem = text_problem(field.data) if self.multiline else line_problem(field.data)
            if problem:
                raise ValidationError(problem)


class Phone:
    """A Tunisian number (8 digits, with or without +216) or an international one (+ and the
    country code); the field's data becomes its international form, e.g. "+216 22 333 444"."""

    message = "Numéro de téléphone invalide : 8 chiffres pour la Tunisie, ou +indicatif pour l'étranger."

    def __call__(self, form: Any, field: Field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            return
        if len(raw) > 32:
            raise ValidationError(self.message)
        try:
            number = phonenumbers.parse(raw, "TN")
        except phonenumbers.NumberParseException:
            raise ValidationError(self.message) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(self.message)
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

        def get_translations(self, form: Any) -> Any:
            # WTForms ships French messages; Flask-WTF would look for Flask-Babel instead.
            return DefaultMeta.get_translations(self, form)

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            """Every text field of every form refuses control characters (a name with a line
            break would end up in an e-mail header). Passwords are hashed, never shown: exempt."""
            field = unbound_field.bind(form=form, **options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                guard = NoControlCharacters(multiline=isinstance(field, TextAreaField))
                # A new list: the unbound field's list is shared by every instance of the form.
                field.validators = [*field.validators, guard]
            return field


class ActivationForm(Form):
    """The student's e-mail, for the activation link (parent's dashboard, staff table)."""

    email = EmailField(
        "E-mail de l'élève",
        validators=[
            Optional(),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254, message="254 caractères au plus."),
        ],
    )


# -- children of a family: one group per child, added and removed without JavaScript -----------

MAX_CHILDREN = 6
NAME = Length(2, 80, "Entre 2 et 80 caractères.")


class ChildEntry(Form):
    """One child of a family being created (sign-up, staff opening a family, admin)."""

    class Meta:
        csrf = False  # part of a form that carries the token

    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), NAME])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), NAME])
    grade = SelectField(
        "Classe",
        choices=[("", "— Choisir —"), *Grade.choices()],
        validate_choice=False,
        validators=[
            DataRequired("Choisissez la classe."),
            AnyOf([g.value for g in Grade], "Choisissez une classe dans la liste."),
        ],
    )
    email = EmailField(
        "E-mail de l'enfant (facultatif)",
        validators=[
            Optional(),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254, message="254 caractères au plus."),
        ],
    )

    def is_blank(self) -> bool:
        return not any((self[name].data or "").strip() for name in ("first_name", "last_name", "email"))

    def draft(self) -> ChildDraft:
        return ChildDraft(
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            grade=Grade(self.grade.data),
            email=(self.email.data or "").strip().lower() or None,
        )


class ChildList(FieldList):
    """The children's groups; a group number is one or two ASCII digits (WTForms would call
    int() on any str.isdigit() text, and "²" or a 5,000-digit number would raise)."""

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                number = key[offset:].split(self._field_separator, 1)[0]
                if number.isascii() and number.isdecimal() and len(number) <= 2:
                    yield int(number)


def children_list(minimum: int = 1) -> ChildList:
    """The children of a family form (`children`); see ChildrenMixin.min_children."""
    return ChildList(FormField(ChildEntry), min_entries=max(minimum, 1), max_entries=MAX_CHILDREN)


class ChildrenMixin:
    """For a form with `children = children_list()`: add or remove a group, drafts, the minimum."""

    children: ChildList
    min_children = 1

    def change_children(self, values: Any) -> bool:
        """Apply "Ajouter un autre enfant" or "Retirer" if that is what was clicked (then the form
        is shown again, nothing validated nor saved); False for any other button."""
        if values.get("enfant") == "ajouter":
            if len(self.children.entries) < MAX_CHILDREN:
                self.children.append_entry()
            return True
        index = values.get("retirer", "")[:2]
        if index.isdecimal():
            entries = self.children.entries
            position = next((i for i, e in enumerate(entries) if e.name.endswith(f"-{index}")), None)
            if position is not None and len(entries) > 1:
                del entries[position]
            return True
        return False

    def validate(self, extra_validators: Any = None) -> bool:
        """Every other field, then the children: every error shown."""
        own = [f.validate(self) for name, f in self._fields.items() if name != "children"]  # type: ignore[attr-defined]
        children_ok = self.check_children()
        return all(own) and children_ok

    def check_children(self) -> bool:
        """Blank groups are dropped; the rest must be valid (every error shown), and enough.

        Not named validate_children: WTForms would take it for the field's inline validator.
        """
        kept = [entry for entry in self.children.entries if not entry.form.is_blank()]
        if len(kept) < self.min_children:
            self.children.errors = ["Indiquez au moins un enfant."]
            return False
        self.children.entries = kept
        results = [entry.validate(self) for entry in kept]
        return all(results)

    def child_drafts(self) -> list[ChildDraft]:
        return [entry.form.draft() for entry in self.children.entries]
