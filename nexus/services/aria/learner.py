"""What ARIA may know of the student, with their consent: their class, their level in each subject
(the latest completed positioning test that measured it) and the weak domains and skills of the
latest test of the conversation's subject, so that hints aim at what they need.

Nothing is used until the student said yes to the notice (`Student.aria_uses_results`); a refusal
or no completed test leaves the prompt as it was.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.services import ServiceError, command

WEAK_BELOW = 55  # mastery (%) under which a domain or skill is a point to work on (the bilan's rule)
MAX_DOMAINS = 3
MAX_SKILLS = 3
TESTS_READ = 20  # the latest completed tests looked at for each subject's level
# Words of domain and skill names too common to tell course passages apart.
GENERIC = {
    "calcul",
    "calculs",
    "nombre",
    "nombres",
    "notion",
    "notions",
    "etude",
    "methode",
    "methodes",
    "probleme",
    "problemes",
    "proprietes",
    "modelisation",
    "resolution",
    "applications",
    "generalites",
    "exercices",
}


@dataclass(frozen=True)
class Level:
    subject: str  # its French label
    label: str  # "Fragile", "Stable"…
    ssn: float | None


@dataclass(frozen=True)
class WeakDomain:
    key: str
    label: str
    mastery: int
    skills: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, mastery)


@dataclass(frozen=True)
class Learner:
    grade: Grade
    levels: list[Level]
    weak: list[WeakDomain]  # in the conversation's subject, weakest first

    @property
    def terms(self) -> list[str]:
        """Word stems of the weak domains and skills: course passages that name them come first."""
        names = []
        for domain in self.weak:
            names += [domain.key, domain.label, *(key for key, _, _ in domain.skills)]
        return focus_terms(names)


def fold(text: str) -> str:
    """Lowercase without accents."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def focus_terms(names: Iterable[str]) -> list[str]:
    """Five-letter stems of the meaningful words (dérivation, dérivée -> "deriv")."""
    stems: list[str] = []
    for name in names:
        for word in re.findall(r"[a-z]+", fold(name)):
            if len(word) >= 5 and word not in GENERIC and word[:5] not in stems:
                stems.append(word[:5])
    return stems


# -- consent --------------------------------------------------------------------------------------------


@command
def set_consent(student: Student, choice: str | None) -> bool:
    """The student's answer to the notice ("oui" / "non"); it can be changed at any time."""
    if choice not in ("oui", "non"):
        raise ServiceError("Choisissez « D'accord » ou « Non merci ».", "choix")
    row = db.session.execute(select(Student).where(Student.id == student.id).with_for_update()).scalar_one()
    row.aria_uses_results = choice == "oui"
    return row.aria_uses_results


# -- the profile ------------------------------------------------------------------------------------------


def _completed_tests(student_id: int) -> list[Assessment]:
    stmt = (
        select(Assessment)
        .where(
            Assessment.student_id == student_id,
            Assessment.status == TestStatus.COMPLETED,
            Assessment.results.is_not(None),
        )
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
        .limit(TESTS_READ)
    )
    return list(db.session.scalars(stmt))


def _parts(results: dict[str, Any] | None) -> list[dict[str, Any]]:
    parts = (results or {}).get("subjects") or []
    return [p for p in parts if isinstance(p, dict) and p.get("subject")]


def _mastery(row: dict[str, Any]) -> int | None:
    value = row.get("mastery")
    return int(value) if isinstance(value, int | float) else None


def weak_domains(part: dict[str, Any]) -> list[WeakDomain]:
    """The weakest domains under WEAK_BELOW, each with its weakest skills under it too."""
    found = []
    for domain in part.get("domains") or []:
        mastery = _mastery(domain)
        if mastery is None or mastery >= WEAK_BELOW:
            continue
        skills = [
            (str(s.get("key", "")), str(s.get("label", "")), m)
            for s in domain.get("skills") or []
            if (m := _mastery(s)) is not None and m < WEAK_BELOW
        ]
        skills.sort(key=lambda s: s[2])
        found.append(
            WeakDomain(str(domain.get("key", "")), str(domain.get("label", "")), mastery, skills[:MAX_SKILLS])
        )
    found.sort(key=lambda d: d.mastery)
    return found[:MAX_DOMAINS]


def profile(student: Student, subject: Subject) -> Learner | None:
    """What the prompt may say of this student in this subject; None without consent or data."""
    if student.aria_uses_results is not True:
        return None
    levels: dict[str, Level] = {}
    weak: list[WeakDomain] | None = None
    for test in _completed_tests(student.id):  # newest first: the first part seen is the latest
        for part in _parts(test.results):
            code = str(part["subject"])
            if code not in levels and part.get("level_label"):
                label = Subject.__members__[code].label if code in Subject.__members__ else code
                levels[code] = Level(label, str(part["level_label"]), part.get("ssn"))
            if weak is None and code == subject.value:
                weak = weak_domains(part)
    if not levels:
        return None
    return Learner(student.grade, list(levels.values()), weak or [])


def prompt_text(learner: Learner, subject: Subject) -> str:
    """The lines added to the rules: data about the student, to use for the hints, not to recite."""
    lines = [
        "Ce que l'on sait de l'élève (il a accepté qu'ARIA en tienne compte ; ne lui récite pas ces "
        "données, sers-t'en pour viser tes indices) :",
        f"- Classe : {learner.grade.label}.",
    ]
    levels = " ; ".join(
        f"{lv.subject} : {lv.label}" + (f" (SSN {lv.ssn:.0f})" if isinstance(lv.ssn, int | float) else "")
        for lv in learner.levels
    )
    lines.append(f"- Niveau au dernier test de positionnement : {levels}.")
    if learner.weak:
        points = " ; ".join(
            f"{d.label} (maîtrise {d.mastery} %"
            + (" ; compétences : " + ", ".join(label for _, label, _ in d.skills) if d.skills else "")
            + ")"
            for d in learner.weak
        )
        lines.append(f"- Points à travailler en {subject.label} : {points}.")
        lines.append(
            "Quand la question touche à ces points, avance par petits indices, fais vérifier chaque étape "
            "et propose à la fin un court exercice d'entraînement sur le point faible."
        )
    return "\n".join(lines)
