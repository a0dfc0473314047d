"""A family signing up by itself (/inscription), one question group (step) at a time."""

from __future__ import annotations

from markupsafe import Markup
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from nexus.forms.base import Form
from nexus.forms.family import ChildrenMixin, children_list
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, NAME, REQUIRED, Phone
from nexus.models.common import Grade
from nexus.services import identity, signup
from nexus.services.family import ParentDraft

STEP_FIELDS: dict[int, tuple[str, ...]] = {
    1: ("first_name", "last_name", "email", "phone"),
    2: ("children",),
    3: ("password", "confirm", "accept_terms"),
}
NEVER_CARRIED = {"password", "confirm"}


class SignupForm(ChildrenMixin, Form):
    first_name = StringField("Votre prénom", validators=[DataRequired(REQUIRED), NAME])
    last_name = StringField("Votre nom", validators=[DataRequired(REQUIRED), NAME])
    email = EmailField("Votre e-mail", validators=[DataRequired(REQUIRED), EMAIL, EMAIL_LENGTH])
    phone = TelField("Votre téléphone", validators=[DataRequired(REQUIRED), Phone()])
    children = children_list()
    password = PasswordField(
        "Mot de passe",
        validators=[
            DataRequired(REQUIRED),
            Length(max=identity.PASSWORD_MAX, message="128 caractères au plus."),
        ],
    )
    confirm = PasswordField(
        "Confirmer le mot de passe",
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", "Les deux mots de passe ne correspondent pas."),
        ],
    )
    accept_terms = BooleanField(
        Markup(
            # One span: the label is a flex row, and a bare link would become a column of its own.
            "<span>J'accepte que Nexus Réussite conserve ces informations pour ouvrir et gérer l'espace "
            'de ma famille (voir les <a href="/mentions-legales">mentions légales</a>).</span>'
        ),
        validators=[DataRequired("Cochez cette case pour créer votre espace.")],
    )
    # Left empty by people; bots fill it in.
    website = StringField("Ne pas remplir", validators=[Optional()])

    def validate_step(self, step: int) -> bool:
        """Validate the fields of one step only (every field, so every error shows)."""
        if step == 2:
            return self.check_children()
        results = [self[name].validate(self) for name in STEP_FIELDS[step]]
        if step == 3 and not self.password.errors:
            problem = identity.password_problem(self.password.data or "", self.email.data)
            if problem:
                self.password.errors.append(problem)
                return False
        return all(results)

    def first_invalid_step(self, up_to: int) -> int | None:
        """The first step (1..up_to) with an error; earlier steps come back as hidden fields."""
        return next((step for step in range(1, up_to + 1) if not self.validate_step(step)), None)

    def carried(self, shown: int) -> list[tuple[str, str]]:
        """(name, value) of every answer outside the shown step, for hidden inputs (never the
        password)."""
        pairs: list[tuple[str, str]] = []
        for step, names in STEP_FIELDS.items():
            if step == shown:
                continue
            for name in names:
                if name in NEVER_CARRIED:
                    continue
                fields = (
                    [sub for entry in self.children for sub in entry.form]
                    if name == "children"
                    else [self[name]]
                )
                pairs += [(f.name, value) for f in fields for value in _values(f)]
        return pairs

    def focus(self, step: int) -> Field:
        """The field to focus after a swap: the first with an error, else the step's first."""
        if step == 2:
            fields = [sub for entry in self.children for sub in entry.form]
        else:
            fields = [self[name] for name in STEP_FIELDS[step]]
        return next((f for f in fields if f.errors), fields[0])

    def summary(self) -> list[tuple[int, list[tuple[str, str]]]]:
        """The answers of steps 1-2 in French, for the last step's recap."""
        kids = [
            (
                f"Enfant {i}",
                " · ".join(
                    part
                    for part in (
                        f"{entry.form.first_name.data or ''} {entry.form.last_name.data or ''}".strip(),
                        _grade_label(entry.form.grade.data),
                        entry.form.email.data or "",
                    )
                    if part
                ),
            )
            for i, entry in enumerate(self.children, start=1)
        ]
        return [
            (
                1,
                [
                    ("Nom", f"{self.first_name.data or ''} {self.last_name.data or ''}"),
                    ("E-mail", self.email.data or ""),
                    ("Téléphone", self.phone.data or ""),
                ],
            ),
            (2, kids),
        ]

    def draft(self, bilan_request_id: int | None) -> signup.SignupDraft:
        return signup.SignupDraft(
            parent=ParentDraft(
                first_name=self.first_name.data or "",
                last_name=self.last_name.data or "",
                email=self.email.data or "",
                phone=self.phone.data,
            ),
            children=self.child_drafts(),
            bilan_request_id=bilan_request_id,
        )


def _values(field: Field) -> list[str]:
    """What a field holds, as posted, or its prefilled value (a form filled from a bilan)."""
    raw = getattr(field, "raw_data", None)
    if raw is not None:
        return [v for v in raw if isinstance(v, str)]
    if field.data in (None, "", False):
        return []
    return ["y" if field.data is True else str(field.data)]


def _grade_label(value: str | None) -> str:
    try:
        return Grade(value).label
    except ValueError:
        return ""
