"""The diagnostic questionnaire ("bilan pallier 2"): school, teacher, averages, bac blanc, class
ranking, confidence per chapter of the test's domains, objectives.

`parse_form` reads what a family typed (strings) into the stored dict, with a French message per
field; `validate` checks a dict given by code (the service's guard, same rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nexus.numbers import parse_decimal
from nexus.services import ServiceError
from nexus.text import line_problem, text_problem

# How at ease the student says they are with a chapter.
CONFIDENCE = {
    1: "Pas du tout à l'aise",
    2: "Peu à l'aise",
    3: "Plutôt à l'aise",
    4: "Très à l'aise",
}
LINES = {"school": ("Établissement", 120), "teacher": ("Professeur de la matière", 120)}
MARKS = {
    "maths_average": "Moyenne de mathématiques",
    "speciality_average": "Moyenne de la spécialité",
    "bac_blanc": "Note au bac blanc",
}
RANK_MAX = 60
OBJECTIVES_MAX = 1500
MARK_MESSAGE = "Une note sur 20, par exemple 12,5."


@dataclass(frozen=True)
class Chapter:
    """A domain of the test, asked about in the questionnaire."""

    subject: str
    key: str
    label: str
    subject_label: str

    @property
    def field(self) -> str:
        return f"confiance-{self.subject}-{self.key}"

    @property
    def ref(self) -> str:
        return f"{self.subject}:{self.key}"


def chapters(results: Mapping[str, Any] | None) -> list[Chapter]:
    """The test's domains, in the results' order."""
    found = []
    for subject in (results or {}).get("subjects") or []:
        for domain in subject.get("domains") or []:
            found.append(
                Chapter(
                    str(subject.get("subject")),
                    str(domain.get("key")),
                    str(domain.get("label")),
                    str(subject.get("label") or subject.get("subject")),
                )
            )
    return found


def _mark(raw: str | None) -> tuple[float | None, str | None]:
    text = (raw or "").strip()
    if not text:
        return None, None
    value = parse_decimal(text, places=2, max_digits=2)
    if value is None or value > Decimal(20):
        return None, MARK_MESSAGE
    return float(value), None


def _line(raw: str | None, limit: int) -> tuple[str | None, str | None]:
    text = (raw or "").strip()
    if not text:
        return None, None
    if len(text) > limit:
        return None, f"{limit} caractères au plus."
    problem = line_problem(text)
    return (None, problem) if problem else (text, None)


def parse_form(form: Mapping[str, str], chapter_list: list[Chapter]) -> tuple[dict[str, Any], dict[str, str]]:
    """(The questionnaire, the French error of each refused field). Every field is optional but a
    confidence must be one of the scale's answers."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (_, limit) in LINES.items():
        data[name], error = _line(form.get(name), limit)
        if error:
            errors[name] = error
    for name in MARKS:
        data[name], error = _mark(form.get(name))
        if error:
            errors[name] = error
    data["class_rank"], error = _line(form.get("class_rank"), RANK_MAX)
    if error:
        errors["class_rank"] = error
    objectives = (form.get("objectives") or "").strip()
    if len(objectives) > OBJECTIVES_MAX:
        errors["objectives"] = f"{OBJECTIVES_MAX} caractères au plus."
    elif problem := text_problem(objectives):
        errors["objectives"] = problem
    data["objectives"] = objectives or None
    confidence: dict[str, int] = {}
    for chapter in chapter_list:
        raw = (form.get(chapter.field) or "").strip()
        if not raw:
            continue
        if raw not in {str(k) for k in CONFIDENCE}:
            errors[chapter.field] = "Choisissez une réponse dans la liste."
            continue
        confidence[chapter.ref] = int(raw)
    data["confidence"] = confidence
    return data, errors


def validate(data: Mapping[str, Any], chapter_list: list[Chapter]) -> dict[str, Any]:
    """The questionnaire as stored, or a ServiceError (a dict built by code, not by a form)."""
    if not isinstance(data, Mapping):
        raise ServiceError("Questionnaire illisible.")
    form: dict[str, str] = {}
    for name in (*LINES, "class_rank", "objectives"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ServiceError("Questionnaire illisible.", field=name)
        form[name] = value or ""
    for name in MARKS:
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ServiceError(MARK_MESSAGE, field=name)
        form[name] = "" if value is None else f"{Decimal(str(value)):f}"
    refs = {c.ref: c for c in chapter_list}
    for ref, level in (data.get("confidence") or {}).items():
        if ref not in refs:
            raise ServiceError("Chapitre inconnu dans le questionnaire.")
        form[refs[ref].field] = str(level)
    cleaned, errors = parse_form(form, chapter_list)
    if errors:
        field, message = next(iter(errors.items()))
        raise ServiceError(message, field=field)
    return cleaned
