"""The positioning tests' question bank: TOML files in this folder, one per programme domain.

Each file is reviewable in a diff (see FORMAT.md); `load_bank()` reads and validates all of them,
`render()` turns an item's text into safe HTML with formulas as MathML (no JavaScript).
`python -m nexus.question_bank` checks every file and prints the counts per domain.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from nexus import fr

HERE = Path(__file__).parent
SUBJECTS = ("MATHEMATIQUES", "NSI")
GRADES = ("PREMIERE", "TERMINALE")
LETTERS = "ABCD"
MIN_DIFFICULTY, MAX_DIFFICULTY = -3.5, 3.5
KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# The programme's domains per (subject, grade): file name (without .toml) → label.
DOMAINS: dict[tuple[str, str], dict[str, str]] = {
    ("MATHEMATIQUES", "PREMIERE"): {
        "second-degre": "Second degré",
        "suites": "Suites numériques",
        "derivation": "Dérivation",
        "exponentielle": "Fonction exponentielle",
        "trigonometrie": "Trigonométrie",
        "geometrie-reperee": "Produit scalaire et géométrie repérée",
        "probabilites": "Probabilités conditionnelles et variables aléatoires",
        "algorithmique": "Algorithmique et programmation",
    },
    ("MATHEMATIQUES", "TERMINALE"): {
        "recurrence-suites": "Récurrence et suites",
        "limites-continuite": "Limites et continuité",
        "derivation-convexite": "Dérivation et convexité",
        "logarithme": "Fonction logarithme",
        "integration": "Primitives, équations différentielles et intégration",
        "denombrement": "Dénombrement",
        "probabilites-binomiale": "Probabilités et loi binomiale",
        "geometrie-espace": "Géométrie dans l'espace",
    },
    ("NSI", "PREMIERE"): {
        "representation-donnees": "Représentation des données",
        "tables": "Traitement des données en tables",
        "web": "Interactions homme-machine sur le Web",
        "architecture-os": "Architectures matérielles et systèmes d'exploitation",
        "programmation": "Langages et programmation",
        "algorithmique": "Algorithmique",
    },
    ("NSI", "TERMINALE"): {
        "structures-donnees": "Structures de données",
        "bases-donnees": "Bases de données et SQL",
        "architecture-reseaux": "Architectures, réseaux et processus",
        "recursivite-paradigmes": "Récursivité et paradigmes de programmation",
        "arbres-graphes": "Algorithmes sur les arbres et les graphes",
        "diviser-regner": "Diviser pour régner",
        "programmation-dynamique": "Programmation dynamique",
    },
}
FOLDERS = {
    ("MATHEMATIQUES", "PREMIERE"): "maths-premiere",
    ("MATHEMATIQUES", "TERMINALE"): "maths-terminale",
    ("NSI", "PREMIERE"): "nsi-premiere",
    ("NSI", "TERMINALE"): "nsi-terminale",
}


class BankError(ValueError):
    """A file of the bank breaks a rule; the message names the file and the item."""


@dataclass(frozen=True)
class BankItem:
    key: str
    subject: str
    grade: str
    domain: str
    skill: str
    difficulty: float
    stem: str
    choices: tuple[str, str, str, str]
    answer: int  # 0..3
    explanation: str


@dataclass(frozen=True)
class Domain:
    subject: str
    grade: str
    key: str
    label: str
    skills: dict[str, str]


@dataclass(frozen=True)
class Bank:
    domains: tuple[Domain, ...]
    items: tuple[BankItem, ...]

    def domain(self, subject: str, grade: str, key: str) -> Domain | None:
        return next((d for d in self.domains if (d.subject, d.grade, d.key) == (subject, grade, key)), None)


# ---- rendering: $…$ is LaTeX, `…` is code, ``` fences are code blocks, the rest is text ----

_FENCE = re.compile(r"```[a-z]*\n(.*?)\n?```", re.DOTALL)
_INLINE = re.compile(r"\$([^$]+)\$|`([^`]+)`")


def _mathml(latex: str) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip())


def _prose(text: str) -> str:
    return str(escape(fr.typography(text)))


def _inline(text: str) -> str:
    out, last = [], 0
    for match in _INLINE.finditer(text):
        out.append(_prose(text[last : match.start()]))
        latex, code = match.groups()
        out.append(_mathml(latex) if latex is not None else f"<code>{escape(code)}</code>")
        last = match.end()
    out.append(_prose(text[last:]))
    return "".join(out).replace("\n", "<br>")


@lru_cache(maxsize=4096)
def render(text: str) -> Markup:
    """Safe HTML for a stem, a choice or an explanation (the bank is ours, but still escaped)."""
    parts, last = [], 0
    for match in _FENCE.finditer(text):
        before = text[last : match.start()].strip("\n")
        if before:
            parts.append(_inline(before))
        parts.append(f"<pre><code>{escape(match.group(1))}</code></pre>")
        last = match.end()
    rest = text[last:].strip("\n")
    if rest:
        parts.append(_inline(rest))
    return Markup("".join(parts))  # noqa: S704 - every text part went through escape()


# ---- loading and validation ----


def _need(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise BankError(f"{where} : {message}")


def _item(raw: dict, domain: Domain, where: str) -> BankItem:
    key = raw.get("key", "")
    where = f"{where} [{key or '?'}]"
    _need(bool(KEY.match(key)), where, "clé absente ou invalide (minuscules, chiffres, tirets)")
    _need(raw.get("skill") in domain.skills, where, f"compétence inconnue {raw.get('skill')!r}")
    difficulty = raw.get("difficulty")
    _need(isinstance(difficulty, int | float), where, "difficulté absente")
    _need(MIN_DIFFICULTY <= difficulty <= MAX_DIFFICULTY, where, "difficulté hors de [-3.5, 3.5]")
    stem, explanation = raw.get("stem", "").strip(), raw.get("explanation", "").strip()
    _need(bool(stem), where, "énoncé vide")
    _need(bool(explanation) and "\n" not in explanation, where, "explication vide ou sur plusieurs lignes")
    choices = tuple(str(c).strip() for c in raw.get("choices", ()))
    _need(len(choices) == 4 and all(choices), where, "il faut exactement 4 choix non vides")
    _need(len({c.casefold() for c in choices}) == 4, where, "deux choix identiques")
    _need(
        all("ne sais pas" not in c.casefold() for c in choices),
        where,
        "« Je ne sais pas » est ajouté par le test",
    )
    answer = raw.get("answer", "")
    _need(answer in tuple(LETTERS), where, "la réponse doit être une lettre A, B, C ou D")
    for text in (stem, explanation, *choices):
        _need(text.count("$") % 2 == 0, where, "un $ n'est pas refermé")
        try:
            render.__wrapped__(text)
        except Exception as error:  # any converter failure is a bank error
            raise BankError(f"{where} : formule illisible ({error})") from error
    return BankItem(
        key=key, subject=domain.subject, grade=domain.grade, domain=domain.key,
        skill=raw["skill"], difficulty=float(difficulty), stem=stem,
        choices=choices, answer=LETTERS.index(answer), explanation=explanation,
    )  # fmt: skip


def _domain_file(path: Path, subject: str, grade: str) -> tuple[Domain, list[BankItem]]:
    where = f"{path.parent.name}/{path.name}"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    labels = DOMAINS[(subject, grade)]
    _need(path.stem in labels, where, f"domaine inconnu (attendu : {', '.join(labels)})")
    skills = data.get("skills", {})
    _need(
        len(skills) >= 2 and all(isinstance(v, str) and v for v in skills.values()),
        where,
        "au moins deux compétences nommées",
    )
    domain = Domain(subject, grade, path.stem, labels[path.stem], dict(skills))
    items = [_item(raw, domain, where) for raw in data.get("items", [])]
    unused = set(skills) - {item.skill for item in items}
    _need(not unused, where, f"compétences sans question : {', '.join(sorted(unused))}")
    return domain, items


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


@lru_cache(maxsize=1)
def load_bank(root: Path = HERE) -> Bank:
    """Every domain file, validated; raises BankError on the first broken rule."""
    domains, items = [], []
    for (subject, grade), folder in FOLDERS.items():
        for path in sorted((root / folder).glob("*.toml")):
            domain, found = _domain_file(path, subject, grade)
            domains.append(domain)
            items.extend(found)
    keys = Counter(item.key for item in items)
    repeated = [key for key, count in keys.items() if count > 1]
    _need(not repeated, "banque", f"clés en double : {', '.join(repeated[:5])}")
    stems = Counter((_normalised(i.stem), tuple(map(_normalised, i.choices))) for i in items)
    twins = [stem for stem, count in stems.items() if count > 1]
    _need(not twins, "banque", f"questions en double : {twins[:2]}")
    return Bank(tuple(domains), tuple(items))


def summary(bank: Bank) -> list[str]:
    """One line per domain: items, skills, answers per letter, difficulty spread."""
    lines = []
    for d in bank.domains:
        mine = [i for i in bank.items if (i.subject, i.grade, i.domain) == (d.subject, d.grade, d.key)]
        letters = Counter(LETTERS[i.answer] for i in mine)
        bands = Counter(min(4, max(0, int((i.difficulty + 2.5) // 1))) for i in mine)
        lines.append(
            f"{FOLDERS[(d.subject, d.grade)]}/{d.key}: {len(mine)} items, {len(d.skills)} skills, "
            f"answers {dict(sorted(letters.items()))}, bands {[bands.get(b, 0) for b in range(5)]}"
        )
    return lines
