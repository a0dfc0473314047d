"""The family's forms: the children of a family (sign-up, staff opening a family, admin), added
and removed without JavaScript, and a student's activation address."""

from __future__ import annotations

from typing import Any

from wtforms import EmailField, FieldList, FormField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Optional

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, NAME
from nexus.models.common import Grade
from nexus.services.family import ChildDraft


class ActivationForm(Form):
    """The student's e-mail, for the activation link (parent's dashboard, staff table)."""

    email = EmailField("E-mail de l'élève", validators=[Optional(), EMAIL, EMAIL_LENGTH])


# -- children of a family: one group per child, added and removed without JavaScript -----------

MAX_CHILDREN = 6


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
    email = EmailField("E-mail de l'enfant (facultatif)", validators=[Optional(), EMAIL, EMAIL_LENGTH])

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
