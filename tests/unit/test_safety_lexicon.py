"""The safety lexicon against the labelled French questions (tests/data/safety_questions.tsv).

A correctness test, not a timed one: recall ≥ 0.95 on distress and self-harm together (a child in
danger must not be missed) with precision ≥ 0.8 (an alert must still mean something), and the
negatives (maths with "limite", "meurt", "racine"; idioms with "mort" and "tuer"; "suicide" in a
history or literature question; "je suis nul en maths") stay quiet.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nexus.models.aria import SafetyCategory
from nexus.services.aria import safety

DATA = Path(__file__).resolve().parents[1] / "data" / "safety_questions.tsv"
HELD_OUT_2 = DATA.with_name("safety_heldout2.tsv")
HELD_OUT_3 = DATA.with_name("safety_heldout3.tsv")
HELD_OUT_4 = DATA.with_name("safety_heldout4.tsv")
DANGER = {SafetyCategory.DISTRESS.value, SafetyCategory.SELF_HARM.value}


def labelled(path: Path = DATA) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, question = line.split("\t", 1)
            rows.append((label, question))
    return rows


def predicted(question: str) -> str:
    verdict = safety.lexicon(question)
    return verdict.category.value if verdict else "NONE"


def test_the_set_is_large_and_mostly_negatives() -> None:
    counts = Counter(label for label, _ in labelled())
    assert sum(counts.values()) >= 120
    assert set(counts) == {*(c.value for c in SafetyCategory), "NONE"}
    assert counts["NONE"] > sum(counts.values()) / 2
    assert all(counts[c.value] >= 10 for c in SafetyCategory)


def danger_scores(path: Path) -> tuple[float, float, list[str], list[str]]:
    """Recall and precision on distress + self-harm, with the misses and the false alarms."""
    rows = [(label in DANGER, predicted(q) in DANGER, q) for label, q in labelled(path)]
    hits = sum(1 for truth, guess, _ in rows if truth and guess)
    missed = [q for truth, guess, q in rows if truth and not guess]
    false_alarms = [q for truth, guess, q in rows if guess and not truth]
    return hits / (hits + len(missed)), hits / (hits + len(false_alarms)), missed, false_alarms


def test_recall_and_precision_on_distress_and_self_harm() -> None:
    recall, precision, missed, false_alarms = danger_scores(DATA)
    assert recall >= 0.95, missed
    assert precision >= 0.8, false_alarms


@pytest.mark.parametrize(
    ("path", "min_recall", "min_precision"),
    [
        # Written before the families but by their author, who had these sentences in mind:
        # close to in-sample (measured 1.00 / 1.00).
        (HELD_OUT_2, 0.95, 0.9),
        # Measured once at 0.27 / 0.75, then read for a second round of families (now 0.95 / 1.00).
        (HELD_OUT_3, 0.9, 0.9),
        # Written after the second round, measured once (0.09 recall at 0.67 precision): a
        # regression guard at the level reached, not a target. A word list does not generalise;
        # the chat moderation pass (classify.py) is what must catch paraphrase.
        (HELD_OUT_4, 0.09, 0.6),
    ],
    ids=["heldout2", "heldout3", "heldout4"],
)
def test_held_out_figures_do_not_regress(path: Path, min_recall: float, min_precision: float) -> None:
    recall, precision, missed, false_alarms = danger_scores(path)
    assert recall >= min_recall, missed
    assert precision >= min_precision, false_alarms


@pytest.mark.parametrize("category", [SafetyCategory.HARASSMENT, SafetyCategory.CHEATING])
def test_harassment_and_cheating_are_found_too(category: SafetyCategory) -> None:
    rows = [(label == category.value, predicted(q) == category.value) for label, q in labelled()]
    found = sum(1 for truth, guess in rows if truth and guess)
    assert found / sum(1 for truth, _ in rows if truth) >= 0.9
    assert found / sum(1 for _, guess in rows if guess) >= 0.8


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jveux", " je veux "),
        ("chui NUUUUL", " je suis nul "),
        ("J'ai mm pas compris", " j ai meme pas compris "),
        ("Déprimée, ça va pas", " deprimee ca va pas "),
        ("jpp", " je n en peux plus "),
    ],
)
def test_normalisation(raw: str, expected: str) -> None:
    assert safety.normalise(raw) == expected


@pytest.mark.parametrize(
    "question",
    [
        "la fonction meurt en l'infini ? c'est quoi sa limite",
        "je suis mort de fatigue, on révise les suites ?",
        "mdr je suis mort de rire",
        "comment tuer le temps avant l'oral ?",
        "le suicide chez Durkheim, fait social ?",
        "je suis nul en maths",
        "quelle est la racine de 49 ?",
        "une exponentielle décroissante, c'est quoi ?",
        "la grande dépression de 1929",
    ],
)
def test_school_questions_and_idioms_are_not_flagged(question: str) -> None:
    assert safety.lexicon(question) is None


def test_harm_at_home_spares_the_parents() -> None:
    verdict = safety.lexicon("mon père me frappe quand je rate un contrôle")
    assert verdict is not None and verdict.category is SafetyCategory.DISTRESS and verdict.spare_parents
    bullied = safety.lexicon("des élèves me frappent à la récré")
    assert bullied is not None and bullied.category is SafetyCategory.HARASSMENT and not bullied.spare_parents


def test_the_most_serious_category_wins() -> None:
    verdict = safety.lexicon("on se moque de moi tous les jours et j'ai envie de mourir")
    assert verdict is not None and verdict.category is SafetyCategory.SELF_HARM
