"""The scoring step of a bilan: from the test's results and the questionnaire, the facts every
text is written from — priorities, strengths, quick wins, risks, a four-week plan, an offer.

Pure functions of their inputs (no database): every number a bilan states comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nexus import fr
from nexus.models.catalog import OfferCode
from nexus.services import catalog
from nexus.services.bilans.questionnaire import CONFIDENCE

PRIORITY_BELOW, STRENGTH_FROM, URGENT_BELOW = 55, 70, 40
LOW_CONFIDENCE = 70  # % of questions attempted under which "je ne sais pas" weighs
IMPRECISE = 0.45  # standard error of θ above which the measure is rough


class ScoringError(Exception):
    """The results cannot feed a bilan (missing or malformed)."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _subjects(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    subjects = results.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        raise ScoringError("no subject in the results")
    kept = []
    for entry in subjects:
        if not isinstance(entry, Mapping) or _number(entry.get("ssn")) is None:
            raise ScoringError("a subject without its SSN")
        domains = [d for d in entry.get("domains") or [] if isinstance(d, Mapping) and d.get("label")]
        kept.append(
            {
                "subject": str(entry.get("subject")),
                "label": str(entry.get("label") or entry.get("subject")),
                "ssn": round(float(entry["ssn"]), 1),
                "level": str(entry.get("level") or ""),
                "level_label": str(entry.get("level_label") or ""),
                "theta": _number(entry.get("theta")),
                "standard_error": _number(entry.get("standard_error")),
                "confidence": _number(entry.get("confidence")),
                "cohort_size": _number(entry.get("cohort_size")),
                "small_cohort": bool(entry.get("small_cohort")),
                "shown": _number(entry.get("shown")),
                "attempted": _number(entry.get("attempted")),
                "correct": _number(entry.get("correct")),
                "domains": [
                    {
                        "key": str(d.get("key")),
                        "label": str(d["label"]),
                        "mastery": _number(d.get("mastery")),
                        "weak_skills": [
                            str(s["label"])
                            for s in d.get("skills") or []
                            if isinstance(s, Mapping)
                            and s.get("label")
                            and (_number(s.get("mastery")) or 100) < PRIORITY_BELOW
                        ][:3],
                    }
                    for d in domains
                ],
            }
        )
    return kept


def _domain_list(subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"subject": s["subject"], "subject_label": s["label"], **d} for s in subjects for d in s["domains"]
    ]


def _highlight(entries: Any, domains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Priorities or strengths as the results give them, with their weak skills."""
    found = []
    by_key = {(d["subject"], d["key"]): d for d in domains}
    for entry in entries or []:
        if not isinstance(entry, Mapping) or not entry.get("label"):
            continue
        domain = by_key.get((str(entry.get("subject")), str(entry.get("domain"))), {})
        found.append(
            {
                "subject": str(entry.get("subject")),
                "domain": str(entry.get("domain")),
                "label": str(entry["label"]),
                "mastery": _number(entry.get("mastery")),
                "weak_skills": domain.get("weak_skills", []),
            }
        )
    return found[:3]


def _risks(
    subjects: list[dict[str, Any]], domains: list[dict[str, Any]], questionnaire: Mapping[str, Any]
) -> list[str]:
    risks = []
    declared = questionnaire.get("confidence") or {}
    for d in domains:
        level = declared.get(f"{d['subject']}:{d['key']}")
        mastery = d["mastery"]
        if level is None or mastery is None:
            continue
        if level >= 3 and mastery < URGENT_BELOW:
            risks.append(
                f"Surconfiance sur « {d['label']} » : déclaré « {CONFIDENCE[level]} », "
                f"maîtrise mesurée {fr.percent(mastery)}."
            )
        elif level <= 2 and mastery >= STRENGTH_FROM:
            risks.append(
                f"Manque de confiance sur « {d['label']} » : déclaré « {CONFIDENCE[level]} », "
                f"maîtrise mesurée {fr.percent(mastery)}."
            )
    for s in subjects:
        if s["confidence"] is not None and s["confidence"] < LOW_CONFIDENCE:
            risks.append(
                f"{s['label']} : seulement {fr.percent(s['confidence'])} des questions tentées "
                "(beaucoup de « je ne sais pas »)."
            )
        if s["standard_error"] is not None and s["standard_error"] > IMPRECISE:
            risks.append(
                f"{s['label']} : mesure peu précise (erreur type {s['standard_error']:.2f} sur θ), "
                "à confirmer par un second test."
            )
        if s["small_cohort"]:
            risks.append(
                f"{s['label']} : petite cohorte, SSN calculé sur l'échelle de référence de la banque."
            )
    average = questionnaire.get("maths_average")
    maths = next((s for s in subjects if s["subject"] == "MATHEMATIQUES"), None)
    if average is not None and maths is not None and average >= 14 and maths["ssn"] < 45:
        risks.append(
            f"Écart entre la moyenne déclarée ({average:g}/20) et le test (SSN {maths['ssn']:g}) : "
            "lacunes masquées en classe ?"
        )
    bac_blanc = questionnaire.get("bac_blanc")
    if bac_blanc is not None and bac_blanc < 10:
        risks.append(f"Bac blanc sous la moyenne ({bac_blanc:g}/20).")
    return risks


def _plan(priorities: list[dict[str, Any]], quick_wins: list[dict[str, Any]]) -> list[str]:
    """Four weeks: the top priority first, then the next ones, then consolidation."""
    first = priorities[0]["label"] if priorities else None
    second = priorities[1]["label"] if len(priorities) > 1 else None
    third = priorities[2]["label"] if len(priorities) > 2 else None
    wins = ", ".join(f"« {w['label']} »" for w in quick_wins) or None
    plan = []
    plan.append(
        f"Semaines 1 et 2 : reprise de « {first} » (cours, méthodes, exercices progressifs)."
        if first
        else "Semaines 1 et 2 : approfondissement sur des exercices de type bac."
    )
    if second:
        plan.append(f"Semaine 3 : « {second} »" + (f", puis « {third} »." if third else "."))
    elif wins:
        plan.append(f"Semaine 3 : consolidation rapide de {wins}.")
    else:
        plan.append("Semaine 3 : exercices de synthèse mêlant les chapitres.")
    plan.append(
        f"Semaine 4 : consolidation de {wins} et sujet de type bac chronométré, "
        "puis second test de positionnement."
        if wins
        else "Semaine 4 : sujet de type bac chronométré, puis second test de positionnement."
    )
    return plan


def _offer(subjects: list[dict[str, Any]], priorities: list[dict[str, Any]]) -> dict[str, Any]:
    urgent = [p for p in priorities if p["mastery"] is not None and p["mastery"] < URGENT_BELOW]
    lowest = min(s["ssn"] for s in subjects)
    if len(urgent) >= 2 or lowest < URGENT_BELOW:
        code, why = OfferCode.IMMERSION, "plusieurs chapitres prioritaires demandent un suivi intensif"
    elif priorities:
        code, why = (
            OfferCode.HYBRIDE,
            "des priorités ciblées demandent un coach référent et des séances régulières",
        )
    else:
        code, why = (
            OfferCode.ACCES_PLATEFORME,
            "le niveau est solide : le travail en autonomie avec ARIA suffit",
        )
    offer = catalog.offer(code)
    return {"code": code.value, "name": offer.name, "price_millimes": offer.price_millimes, "why": why}


def analyse(results: Mapping[str, Any] | None, questionnaire: Mapping[str, Any] | None) -> dict[str, Any]:
    """The facts of a bilan; ScoringError when the results cannot give them."""
    if not isinstance(results, Mapping):
        raise ScoringError("no results")
    questionnaire = questionnaire or {}
    subjects = _subjects(results)
    domains = _domain_list(subjects)
    priorities = _highlight(results.get("priorities"), domains)
    strengths = _highlight(results.get("strengths"), domains)
    named = {(p["subject"], p["domain"]) for p in priorities + strengths}
    quick_wins = sorted(
        (
            d
            for d in domains
            if d["mastery"] is not None
            and PRIORITY_BELOW <= d["mastery"] < STRENGTH_FROM
            and (d["subject"], d["key"]) not in named
        ),
        key=lambda d: -d["mastery"],
    )[:3]
    not_seen = [d["label"] for d in domains if d["mastery"] is None]
    return {
        "subjects": [{k: v for k, v in s.items() if k != "domains"} for s in subjects],
        "domains": domains,
        "uai": _number(results.get("uai")),
        "priorities": priorities,
        "strengths": strengths,
        "quick_wins": [
            {"subject": d["subject"], "domain": d["key"], "label": d["label"], "mastery": d["mastery"]}
            for d in quick_wins
        ],
        "not_seen": not_seen,
        "risks": _risks(subjects, domains, questionnaire),
        "plan": _plan(priorities, quick_wins),
        "offer": _offer(subjects, priorities),
        "duration_minutes": round((_number(results.get("duration_ms")) or 0) / 60000),
    }


SUBJECT_NUMBERS = (
    "ssn",
    "theta",
    "standard_error",
    "confidence",
    "cohort_size",
    "shown",
    "attempted",
    "correct",
)


def allowed_numbers(analysis: Mapping[str, Any], questionnaire: Mapping[str, Any] | None) -> set[float]:
    """Every number a text may state as a score: those of the results and the questionnaire."""
    numbers: set[float] = set()

    def add(value: Any) -> None:
        if (number := _number(value)) is not None:
            numbers.add(round(number, 2))

    for s in analysis.get("subjects") or []:
        keys = (
            "ssn",
            "theta",
            "standard_error",
            "confidence",
            "cohort_size",
            "shown",
            "attempted",
            "correct",
        )
        for key in keys:
            add(s.get(key))
    for d in analysis.get("domains") or []:
        add(d.get("mastery"))
    add(analysis.get("uai"))
    add(analysis.get("duration_minutes"))
    for key in ("maths_average", "speciality_average", "bac_blanc"):
        add((questionnaire or {}).get(key))
    numbers.update({20.0, 100.0, 0.6, 0.4})  # "sur 20", "100 %", the UAI's weights
    return numbers
