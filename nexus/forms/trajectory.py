"""The trajectory form: the objective, its horizon and its milestones (one row each, no JavaScript)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from wtforms import BooleanField, DateField, FieldList, FormField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from nexus.forms.base import Form
from nexus.forms.fields import REQUIRED, strip
from nexus.models.common import Grade, Subject
from nexus.services import parse_id
from nexus.services.progress import trajectory
from nexus.services.progress.trajectory import Draft, MilestoneDraft
from nexus.services.progress.trajectory_plan import TARGET_MASTERY

_DIGITS = re.compile(r"[0-9]{1,3}")
BLANK_ROWS = 2  # empty rows offered after the milestones, to add some without JavaScript
DATE_MESSAGE = "Date invalide (jj/mm/aaaa)."


class WholeNumber:
    """An optional whole number between `low` and `high`, in ASCII digits ("" is none)."""

    def __init__(self, low: int, high: int, message: str) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form: Any, field: Any) -> None:
        raw = field.data if isinstance(field.data, str) else ""
        if raw == "":
            return
        if not _DIGITS.fullmatch(raw) or not self.low <= int(raw) <= self.high:
            raise ValidationError(self.message)


def _number(raw: str | None) -> int | None:
    return int(raw) if raw else None


class MilestoneEntry(Form):
    """One milestone row; a row left blank is no milestone (an existing one is then removed)."""

    class Meta:
        csrf = False  # part of a form that carries the token

    id = HiddenField()
    title = StringField(
        "Étape", filters=[strip], validators=[Length(max=200, message="200 caractères au plus.")]
    )
    due_on = DateField("Échéance (facultatif)", validators=[Optional()], format="%Y-%m-%d")
    domain = SelectField("Suivi par test (facultatif)", choices=[], validate_choice=False)
    target = StringField(
        "Maîtrise visée en % (70 par défaut)",
        validators=[WholeNumber(1, 100, "La maîtrise visée est un nombre entier entre 1 et 100.")],
    )

    def is_blank(self) -> bool:
        due = self.due_on.raw_data[0] if self.due_on.raw_data else ""
        typed = (self.title.data, self.domain.data, self.target.data, due)
        return not any(str(v or "").strip() for v in typed)

    def check(self, domains: set[str]) -> bool:
        ok = self.validate()
        if self.due_on.errors:
            self.due_on.errors = [DATE_MESSAGE]
        if not self.title.data:
            self.title.errors = [*self.title.errors, "Donnez un titre à cette étape."]
            ok = False
        if self.domain.data and self.domain.data not in domains:
            self.domain.errors = ["Choisissez un domaine dans la liste."]
            ok = False
        if self.target.data and not self.domain.data and not self.target.errors:
            self.target.errors = ["Choisissez aussi le domaine que le test mesure."]
            ok = False
        return ok

    def draft(self) -> MilestoneDraft:
        subject, domain, target = None, None, None
        if self.domain.data:
            code, domain = self.domain.data.split(":", 1)
            subject = Subject(code)
            target = Decimal(self.target.data or round(100 * TARGET_MASTERY)) / 100
        return MilestoneDraft(
            title=self.title.data or "",
            due_on=self.due_on.data,
            subject=subject,
            domain=domain,
            target_mastery=target,
            id=parse_id(self.id.data),
        )


class MilestoneList(FieldList):
    """The rows; a row number is one or two ASCII digits (WTForms would call int() on any
    str.isdigit() text, and "²" or a 5,000-digit number would raise)."""

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                number = key[offset:].split(self._field_separator, 1)[0]
                if number.isascii() and number.isdecimal() and len(number) <= 2:
                    yield int(number)


HORIZON_CHOICES = [SelectChoice(str(h), f"{h} mois") for h in trajectory.HORIZONS]
SUBJECT_CHOICES = [
    SelectChoice("", "Toutes les matières"),
    *(SelectChoice(v, lbl) for v, lbl in Subject.choices()),
]


class TrajectoryForm(Form):
    title = StringField(
        "Objectif",
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=160, message="160 caractères au plus.")],
    )
    subject = SelectField(
        "Matière",
        choices=SUBJECT_CHOICES,
        validate_choice=False,
        validators=[AnyOf([c.value for c in SUBJECT_CHOICES], "Choisissez une matière dans la liste.")],
    )
    target_level = StringField(
        "Niveau visé",
        filters=[strip],
        validators=[Length(max=80, message="80 caractères au plus.")],
    )
    target_ssn = StringField(
        "SSN visé, de 0 à 100",
        validators=[WholeNumber(0, 100, "Le SSN visé est un nombre entier entre 0 et 100.")],
    )
    horizon_months = SelectField(
        "Horizon",
        choices=HORIZON_CHOICES,
        validate_choice=False,
        validators=[AnyOf([c.value for c in HORIZON_CHOICES], "Choisissez 3, 6 ou 12 mois.")],
    )
    starts_on = DateField("Début", validators=[DataRequired(DATE_MESSAGE)], format="%Y-%m-%d")
    agreed = BooleanField("Objectif convenu avec la famille (l'élève et ses parents)")
    milestones = MilestoneList(FormField(MilestoneEntry), max_entries=trajectory.MAX_MILESTONES + BLANK_ROWS)

    def setup(self, grade: Grade) -> None:
        """The domain choices of the student's grade, and blank rows to add milestones."""
        domains = trajectory.domain_choices(grade)
        self.domain_values = {value for value, _ in domains}
        choices = [SelectChoice("", "— Aucun —"), *(SelectChoice(v, label) for v, label in domains)]
        wanted = min(len(self.milestones.entries) + BLANK_ROWS, trajectory.MAX_MILESTONES + BLANK_ROWS)
        while len(self.milestones.entries) < wanted:
            self.milestones.append_entry()
        for entry in self.milestones.entries:
            entry.form.domain.choices = choices

    def check(self) -> bool:
        """Every field, then the milestone rows (blank ones dropped): every error shown."""
        own = [f.validate(self) for name, f in self._fields.items() if name != "milestones"]
        if self.starts_on.errors:
            self.starts_on.errors = [DATE_MESSAGE]
        rows = [e.form.check(self.domain_values) for e in self.milestones.entries if not e.form.is_blank()]
        ok = all(own) and all(rows)
        if ok and not (self.target_level.data or self.target_ssn.data):
            self.target_level.errors = ["Indiquez un niveau visé ou un SSN visé."]
            ok = False
        return ok

    def draft(self, assessment_id: int | None = None) -> Draft:
        kept = [e.form.draft() for e in self.milestones.entries if not e.form.is_blank()]
        return Draft(
            title=self.title.data or "",
            horizon_months=int(self.horizon_months.data),
            starts_on=self.starts_on.data,  # type: ignore[arg-type]
            subject=Subject(self.subject.data) if self.subject.data else None,
            target_level=self.target_level.data or None,
            target_ssn=_number(self.target_ssn.data),
            agreed=bool(self.agreed.data),
            milestones=kept,
            assessment_id=assessment_id,
        )

    def fill(self, draft: Draft) -> None:
        """Show a draft (a proposal, or the trajectory being edited)."""
        self.title.data = draft.title
        self.subject.data = draft.subject.value if draft.subject else ""
        self.target_level.data = draft.target_level or ""
        self.target_ssn.data = "" if draft.target_ssn is None else str(draft.target_ssn)
        self.horizon_months.data = str(draft.horizon_months)
        self.starts_on.data = draft.starts_on
        self.agreed.data = draft.agreed
        while self.milestones.entries:
            self.milestones.pop_entry()
        for m in draft.milestones:
            entry = self.milestones.append_entry()
            entry.form.id.data = str(m.id) if m.id else ""
            entry.form.title.data = m.title
            entry.form.due_on.data = m.due_on
            entry.form.domain.data = f"{m.subject.value}:{m.domain}" if m.subject and m.domain else ""
            target = m.target_mastery
            entry.form.target.data = "" if target is None else str(round(target * 100))
