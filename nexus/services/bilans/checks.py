"""What a generated bilan must satisfy before anyone reads it (pure functions, unit-tested).

- the parents' bilan holds no raw score: no SSN, UAI or θ, no percentage, no mark, no score;
- the student's and the team's bilans name each top priority of the results;
- a score a text states (a percentage, a mark, an SSN…) is one of the results' numbers;
- the student is addressed as "tu", the parents as "vous";
- a sensible length.

Each check returns French problems, fed back to the model when it writes the text again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from nexus.models.diagnostics import Audience

WORDS = {Audience.STUDENT: (150, 750), Audience.PARENTS: (100, 700), Audience.TEAM: (100, 1000)}
NUMBER = r"(-?\d+(?:[.,]\d+)?)"
# A number stated as a score: before a unit, or after the name of a measure.
SCORE_AFTER = re.compile(NUMBER + r"\s*(?:%|pour\s*cent|pourcent|/\s*20\b|sur\s+20\b|points?\b)", re.I)
SCORE_BEFORE = re.compile(r"(?:\bSSN|\bUAI|θ|\bth[eéê]ta|\bscore|\bindice)\D{0,15}?" + NUMBER, re.I)
RAW_SCORE = re.compile(
    r"\bSSN\b|\bUAI\b|θ|\bth[eéê]ta\b|\bscores?\b|\bpercentile|\d\s*%|%\s*\d|\bpour\s*cent|\bpourcent"
    r"|\d\s*/\s*20\b|\bsur\s+20\b|\d+[.,]\d+|\b\d+\s+points?\b|\bmaîtrise\s+(?:de\s+)?\d",
    re.I,
)
TUTOIEMENT = re.compile(r"\b(?:tu|te|toi|ton|ta|tes|t['’])", re.I)
VOUVOIEMENT = re.compile(r"\b(?:vous|votre|vos)\b", re.I)
STOPWORDS = {"dans", "avec", "pour", "des", "les", "et", "sur", "une", "aux", "par"}


def plain(text: str) -> str:
    """Lower case without accents, for matching labels however the model wrote them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def names(text: str, label: str) -> bool:
    """Whether the text names a domain: its label, or at least half of its significant words."""
    haystack = plain(text)
    if plain(label) in haystack:
        return True
    significant = [w for w in re.findall(r"\w+", plain(label)) if len(w) >= 4 and w not in STOPWORDS]
    if not significant:
        return False
    found = sum(1 for w in significant if re.search(rf"\b{re.escape(w[:-1])}\w*", haystack))
    return found * 2 >= len(significant)


def _as_number(raw: str) -> float:
    return float(raw.replace(",", "."))


def stated_scores(text: str) -> list[str]:
    after = [m.group(1) for m in SCORE_AFTER.finditer(text)]
    return after + [m.group(1) for m in SCORE_BEFORE.finditer(text)]


def unknown_numbers(text: str, allowed: Iterable[float]) -> list[str]:
    """Scores the text states that none of the results' numbers rounds to."""
    allowed = list(allowed)
    return [raw for raw in stated_scores(text) if not any(abs(_as_number(raw) - v) <= 0.5 for v in allowed)]


def check(
    audience: Audience,
    text: str,
    priorities: list[Mapping[str, Any]],
    allowed: Iterable[float],
) -> list[str]:
    """The problems of one text (none: it may be shown)."""
    problems: list[str] = []
    low, high = WORDS[audience]
    count = word_count(text)
    if count < low:
        problems.append(f"Texte trop court ({count} mots, {low} au moins).")
    elif count > high:
        problems.append(f"Texte trop long ({count} mots, {high} au plus).")
    if audience is Audience.PARENTS:
        raw = sorted({m.group(0).strip() for m in RAW_SCORE.finditer(text)})
        if raw:
            problems.append(
                "Le bilan des parents ne doit contenir aucun score brut (ni SSN, ni θ, ni pourcentage, "
                f"ni note) : retirer {', '.join(f'« {r} »' for r in raw[:5])}."
            )
        if not VOUVOIEMENT.search(text):
            problems.append("Les parents doivent être vouvoyés.")
        if re.search(r"\btu\b", text, re.I):
            problems.append("Les parents ne doivent pas être tutoyés.")
    else:
        missing = [p["label"] for p in priorities if not names(text, str(p["label"]))]
        if missing:
            problems.append(
                "Chaque priorité doit être nommée : il manque " + ", ".join(f"« {m} »" for m in missing) + "."
            )
        unknown = unknown_numbers(text, allowed)
        if unknown:
            problems.append(
                "Ces nombres ne viennent pas des résultats : "
                + ", ".join(unknown[:5])
                + ". N'en invente aucun."
            )
        if audience is Audience.STUDENT and not TUTOIEMENT.search(text):
            problems.append("L'élève doit être tutoyé.")
    return problems
