"""The results' PDF for families: French with its accents, SSN and levels, mastery tables, no theta."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from pypdf import PdfReader

from nexus.services.assessments.report_pdf import results_pdf

COMPLETED = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)


def domain(key: str, label: str, mastery: int | None, skills: list[tuple[str, int | None]]) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "mastery": mastery,
        "shown": 3,
        "attempted": 0 if mastery is None else 3,
        "correct": 0 if mastery is None else 2,
        "skills": [
            {"key": f"{key}-{i}", "label": text, "mastery": value, "shown": 1, "attempted": 1, "correct": 1}
            for i, (text, value) in enumerate(skills)
        ],
    }


def sample(**changes: Any) -> dict[str, Any]:
    """A stage test's results in the contract's format (two subjects)."""
    maths = {
        "subject": "MATHEMATIQUES",
        "label": "Mathématiques",
        "grade": "TERMINALE",
        "theta": 1.2345,
        "standard_error": 0.4321,
        "ssn": 57.25,
        "level": "stable",
        "level_label": "Stable",
        "cohort_size": 12,
        "small_cohort": True,
        "shown": 30,
        "attempted": 27,
        "correct": 18,
        "confidence": 90,
        "domains": [
            domain("recurrence-suites", "Récurrence et suites", 62, [("Raisonner par récurrence", 55)]),
            domain("derivation-convexite", "Dérivation et convexité", None, [("Étudier la convexité", None)]),
            domain(
                "integration",
                "Primitives, équations différentielles et intégration",
                31,
                [("Propriétés de l'intégrale : linéarité, positivité, aire, valeur moyenne", 28)],
            ),
        ],
    }
    nsi = {
        **maths,
        "subject": "NSI",
        "label": "NSI",
        "theta": -0.8765,
        "ssn": 45.5,
        "level": "fragile",
        "level_label": "Fragile",
        "cohort_size": 40,
        "small_cohort": False,
        "confidence": 100,
        "domains": [domain("bases-donnees", "Bases de données et SQL", 91, [("Écrire une jointure", 91)])],
    }
    results = {
        "subjects": [maths, nsi],
        "uai": 52.55,
        "priorities": [
            {
                "subject": "MATHEMATIQUES",
                "domain": "integration",
                "label": "Primitives, équations différentielles et intégration",
                "mastery": 31,
            },
        ],
        "strengths": [
            {"subject": "NSI", "domain": "bases-donnees", "label": "Bases de données et SQL", "mastery": 91}
        ],
        "duration_ms": 812345,
    }
    results.update(changes)
    return results


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def test_the_pdf_says_who_what_and_when_in_french() -> None:
    data = results_pdf(
        "Stage de printemps — test de positionnement", "Yasmine Ben Salah", COMPLETED, sample()
    )
    assert data.startswith(b"%PDF")
    text = text_of(data)
    assert "Nexus Réussite" in text
    assert "Yasmine Ben Salah" in text
    assert "Stage de printemps — test de positionnement" in text
    assert "lundi 4 mars 2030 à 09:00" in text  # Tunis time
    assert "Durée : 14 min" in text


def test_each_subject_gives_its_ssn_level_confidence_and_tables() -> None:
    text = text_of(results_pdf("Test", "Yasmine Ben Salah", COMPLETED, sample()))
    assert "Mathématiques — Terminale" in text
    assert "Score standardisé (SSN) : 57,3 / 100 — niveau Stable" in text
    assert "SSN) : 45,5 / 100 — niveau Fragile" in text
    assert "Indice de confiance : 90 % (27 questions tentées sur 30, 18 réponses justes)" in text
    assert "Récurrence et suites" in text and "Dérivation et convexité" in text
    assert "Bases de données et SQL" in text
    assert "62 %" in text and "non évalué" in text
    assert "Maîtrise par domaine" in text and "Maîtrise par compétence" in text
    assert "Propriétés de l'intégrale" in text and "Étudier la convexité" in text
    assert "Indice global (UAI) : 52,6 / 100" in text
    assert "À travailler en priorité" in text and "Points forts" in text


def test_a_small_cohort_is_said_to_be_small_and_only_then() -> None:
    text = text_of(results_pdf("Test", "Yasmine", COMPLETED, sample()))
    assert text.count("Cohorte encore réduite") == 1
    assert "12 tests passés" in text


def test_families_never_read_theta_or_its_standard_error() -> None:
    text = text_of(results_pdf("Test", "Yasmine", COMPLETED, sample())).lower()
    assert "theta" not in text and "θ" not in text
    for raw in ("1,23", "1.23", "0,876", "-0,88", "0,43", "0.43", "erreur"):
        assert raw not in text


def test_page_numbers_in_the_footer() -> None:
    results = sample()
    results["subjects"][0]["domains"] *= 12  # several pages
    data = results_pdf("Test", "Yasmine", COMPLETED, results)
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, 1):
        assert f"Page {number} / {len(pages)}" in page.extract_text().replace("\u00a0", " ")


def test_sparse_results_and_unusual_names_still_give_a_pdf() -> None:
    bare = results_pdf("Test", "Œdipe L’Hôte", COMPLETED, {})
    assert bare.startswith(b"%PDF")
    text = text_of(bare)
    assert "Œdipe L’Hôte" in text
    assert "Indice global" not in text and "priorité" not in text
    arabic = results_pdf("Test", "يوسف", COMPLETED, sample(uai=None, priorities=[], strengths=[]))
    assert arabic.startswith(b"%PDF")  # a script the core fonts lack is replaced, never a crash
    one = sample()
    del one["subjects"][1]
    one["subjects"][0].update(level_label=None, confidence=None, domains=[])
    text = text_of(results_pdf("Test", "Sami", COMPLETED, one))
    assert "57,3 / 100 — niveau Stable" in text  # the level follows from the SSN when missing
    assert "Maîtrise par domaine" not in text
