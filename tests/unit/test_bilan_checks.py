"""The checks a generated bilan must pass, the scoring step and the template bilans (no database)."""

from __future__ import annotations

import copy

import pytest

from nexus.models.diagnostics import Audience
from nexus.services.bilans import analysis, checks, questionnaire, templates
from tests.integration.bilans_support import PRIORITIES, QUESTIONNAIRE_FORM, RESULTS

FILLER = "Un travail régulier, semaine après semaine, donne des résultats durables et visibles. " * 12
PRIORITY_ROWS = RESULTS["priorities"]


def facts(results=RESULTS, answers=None):  # type: ignore[no-untyped-def]
    a = analysis.analyse(results, answers or {})
    return a, templates.Facts("Yasmine", "Terminale", "Mathématiques — Terminale", a, answers or {})


def allowed(results=RESULTS, answers=None):  # type: ignore[no-untyped-def]
    a, _ = facts(results, answers)
    return analysis.allowed_numbers(a, answers or {})


@pytest.mark.parametrize(
    "leak",
    [
        "Son SSN 57 est correct.",
        "Elle a 62 % de réussite.",
        "Une note de 12/20.",
        "θ = 0,42",
        "un score moyen",
    ],
)
def test_the_parents_bilan_holds_no_raw_score(leak: str) -> None:
    text = f"Madame, Monsieur, votre fille avance bien. {leak} {FILLER}"
    problems = checks.check(Audience.PARENTS, text, PRIORITY_ROWS, allowed())
    assert any("aucun score brut" in p for p in problems)


def test_a_clean_parents_bilan_passes() -> None:
    text = f"Madame, Monsieur, votre fille avance bien sur les chapitres travaillés. {FILLER}"
    assert checks.check(Audience.PARENTS, text, PRIORITY_ROWS, allowed()) == []


def test_the_parents_are_not_addressed_as_tu() -> None:
    text = f"Bonjour, tu peux aider ta fille. {FILLER}"
    problems = checks.check(Audience.PARENTS, text, PRIORITY_ROWS, allowed())
    assert (
        "Les parents doivent être vouvoyés." in problems
        and "Les parents ne doivent pas être tutoyés." in problems
    )


def test_each_priority_must_be_named_in_the_student_and_team_bilans() -> None:
    text = f"Tu dois revoir les suites numériques. {FILLER}"
    for audience in (Audience.STUDENT, Audience.TEAM):
        problems = checks.check(audience, text, PRIORITY_ROWS, allowed())
        assert any("Probabilités et loi binomiale" in p for p in problems)
    named = f"Tu dois revoir les suites et les probabilités (loi binomiale). {FILLER}"
    assert checks.check(Audience.STUDENT, named, PRIORITY_ROWS, allowed()) == []


def test_a_score_stated_must_come_from_the_results() -> None:
    assert checks.unknown_numbers("Ta maîtrise des suites est de 31 %, ton SSN 57.", allowed()) == []
    assert checks.unknown_numbers("Tu as 87 % en géométrie et un SSN de 72.", allowed()) == ["87", "72"]
    answers = questionnaire.validate({"maths_average": 13.5}, questionnaire.chapters(RESULTS))
    assert checks.unknown_numbers("Ta moyenne de 13,5/20 en classe.", allowed(answers=answers)) == []


def test_length_and_tutoiement() -> None:
    short = checks.check(
        Audience.STUDENT, "Tu progresses. Suites numériques, probabilités.", PRIORITY_ROWS, []
    )
    assert any("trop court" in p for p in short)
    formal = checks.check(
        Audience.STUDENT, f"Vous progressez : suites, probabilités. {FILLER}", PRIORITY_ROWS, []
    )
    assert "L'élève doit être tutoyé." in formal


@pytest.mark.parametrize("audience", list(Audience))
def test_the_template_bilans_pass_the_checks(audience: Audience) -> None:
    answers, errors = questionnaire.parse_form(QUESTIONNAIRE_FORM, questionnaire.chapters(RESULTS))
    assert errors == {}
    a, f = facts(answers=answers)
    text = templates.template(audience, f)
    assert checks.check(audience, text, a["priorities"], analysis.allowed_numbers(a, answers)) == []


def test_the_templates_without_priorities_nor_questionnaire() -> None:
    results = copy.deepcopy(RESULTS)
    results["priorities"], results["strengths"] = [], []
    a, f = facts(results)
    for audience in Audience:
        text = templates.template(audience, f)
        assert checks.check(audience, text, [], analysis.allowed_numbers(a, {})) == [], audience
    assert a["offer"]["code"] == "ACCES_PLATEFORME"


def test_the_analysis_finds_quick_wins_risks_plan_and_offer() -> None:
    answers = questionnaire.validate(
        {"confidence": {"MATHEMATIQUES:suites": 4}, "maths_average": 15, "bac_blanc": 8.5},
        questionnaire.chapters(RESULTS),
    )
    a = analysis.analyse(RESULTS, answers)
    assert [p["label"] for p in a["priorities"]] == list(PRIORITIES)
    assert a["priorities"][0]["weak_skills"] == ["Raisonnement par récurrence"]
    assert [w["label"] for w in a["quick_wins"]] == ["Limites et continuité"]
    assert any(r.startswith("Surconfiance sur « Suites numériques »") for r in a["risks"])
    assert any("Bac blanc sous la moyenne" in r for r in a["risks"])
    assert a["plan"][0].startswith("Semaines 1 et 2 : reprise de « Suites numériques »")
    assert a["offer"]["code"] == "HYBRIDE"


@pytest.mark.parametrize("broken", [None, {}, {"subjects": []}, {"subjects": [{"label": "Maths"}]}])
def test_unusable_results_are_a_scoring_error(broken) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(analysis.ScoringError):
        analysis.analyse(broken, {})


def test_the_questionnaire_form() -> None:
    chapters = questionnaire.chapters(RESULTS)
    data, errors = questionnaire.parse_form(QUESTIONNAIRE_FORM, chapters)
    assert errors == {} and data["maths_average"] == 13.5 and data["bac_blanc"] == 11.0
    assert data["speciality_average"] is None and data["class_rank"] == "8e sur 32"
    bad = {
        "maths_average": "20,5",
        "bac_blanc": "NaN",
        "school": "a\nb",
        "confiance-MATHEMATIQUES-suites": "5",
    }
    _, errors = questionnaire.parse_form(bad, chapters)
    assert set(errors) == {"maths_average", "bac_blanc", "school", "confiance-MATHEMATIQUES-suites"}


def test_the_team_template_with_an_uai_passes() -> None:
    results = copy.deepcopy(RESULTS)
    results["uai"] = 55.1
    results["subjects"][0]["theta"] = 1.8
    a, f = facts(results)
    text = templates.template(Audience.TEAM, f)
    assert "UAI (Maths 0,6 · NSI 0,4) : 55,1." in text
    assert checks.check(Audience.TEAM, text, a["priorities"], analysis.allowed_numbers(a, {})) == []
