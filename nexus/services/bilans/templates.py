"""The deterministic template bilans: written from the analysis alone, when there is no language
model, when it is down, or when its text fails the checks twice. They pass the same checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nexus import fr
from nexus.models.diagnostics import Audience
from nexus.services.bilans.questionnaire import CONFIDENCE

# The level of a subject in words, for parents (no number).
LEVEL_WORDS = {
    "excellence": "excellent",
    "tres-solide": "très solide",
    "stable": "stable",
    "fragile": "encore fragile",
    "prioritaire": "à reprendre en priorité",
}


@dataclass(frozen=True)
class Facts:
    """What a bilan is written from (read once from the database, then used without it)."""

    first_name: str
    grade_label: str
    test_title: str
    analysis: Mapping[str, Any]
    questionnaire: Mapping[str, Any] = field(default_factory=dict)
    stage: bool = False


def _quoted(items: list[Mapping[str, Any]]) -> str:
    labels = [f"« {i['label']} »" for i in items]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " et " + labels[-1]


def _these(items: list[Mapping[str, Any]], one: str, several: str) -> str:
    return one if len(items) == 1 else several


def _skills(priority: Mapping[str, Any]) -> str:
    skills = priority.get("weak_skills") or []
    return f" (en particulier : {', '.join(skills)})" if skills else ""


def student(facts: Facts) -> str:
    a = facts.analysis
    priorities, strengths, wins = a["priorities"], a["strengths"], a["quick_wins"]
    parts = [f"## Ton bilan, {facts.first_name}", ""]
    parts.append(
        f"Merci d'avoir passé le test de positionnement jusqu'au bout ({facts.test_title}). "
        "Ce bilan te dit où tu en es, ce qui marche déjà bien et, surtout, par quoi commencer pour "
        "progresser vite. Un test ne résume pas ta valeur : c'est une photo d'aujourd'hui, et elle "
        "va changer avec ton travail."
    )
    parts += [
        "",
        (
            "Chaque question du test comptait, et répondre « je ne sais pas » n'a jamais joué contre toi. "
            if facts.stage
            else "Le test s'est adapté à tes réponses : chaque question était choisie pour en dire plus "
            "sur ton niveau, et répondre « je ne sais pas » n'a jamais joué contre toi. "
        )
        + "Ce qui suit vient donc de ce que tu sais vraiment faire aujourd'hui.",
    ]
    parts += ["", "### Tes points forts", ""]
    if strengths:
        parts.append(
            f"Tu maîtrises déjà bien {_quoted(strengths)}. C'est une base solide : appuie-toi dessus, "
            f"et garde {_these(strengths, 'ce chapitre', 'ces chapitres')} en forme avec un exercice "
            "de temps en temps."
        )
    else:
        parts.append(
            "Aucun chapitre ne se détache encore nettement, mais tu as répondu avec sérieux : "
            "c'est exactement ce qu'il faut pour construire des points forts dans les semaines qui viennent."
        )
    parts += ["", "### Tes priorités", ""]
    if priorities:
        parts.append("Voici les chapitres à travailler en premier, dans cet ordre :")
        parts.append("")
        for n, p in enumerate(priorities, start=1):
            parts.append(f"{n}. **{p['label']}**{_skills(p)}.")
        parts.append("")
        parts.append(
            "Ce ne sont pas des échecs : ce sont les endroits où chaque heure de travail te "
            "rapportera le plus."
        )
    else:
        parts.append(
            "Le test ne montre aucun chapitre vraiment en difficulté : ton objectif est maintenant de "
            "gagner en rapidité et en rigueur sur des sujets de type bac."
        )
    if wins:
        parts += [
            "",
            f"Tu es aussi tout près du but sur {_quoted(wins)} : quelques exercices ciblés suffiront "
            "pour que "
            + _these(
                wins, "ce chapitre devienne un point fort.", "ces chapitres deviennent des points forts."
            ),
        ]
    parts += ["", "### Tes prochaines étapes", ""]
    steps = []
    if priorities:
        first = priorities[0]["label"]
        steps.append(
            f"Cette semaine, relis la fiche de cours « {first} » et refais les exemples du cours "
            "sans regarder la correction."
        )
        steps.append(
            "Fais ensuite trois exercices de difficulté croissante sur ce chapitre, et note précisément "
            "où tu bloques : c'est ce que ton coach reprendra avec toi."
        )
        for p in priorities[1:]:
            steps.append(f"Dans un second temps, attaque « {p['label']} » de la même façon.")
    else:
        steps.append("Entraîne-toi chaque semaine sur un exercice de type bac, chronométré.")
    steps.append(
        "Pose tes questions à ARIA, le tuteur de Nexus Réussite, dès que tu bloques sur une notion : "
        "il s'appuie sur le cours du centre."
    )
    steps.append(
        "Travaille un peu chaque jour plutôt que beaucoup une fois par semaine : vingt minutes "
        "régulières valent mieux qu'une longue séance de rattrapage."
    )
    steps.append("Dans un mois, repasse le test de positionnement pour mesurer tes progrès.")
    parts += [f"- {s}" for s in steps]
    objectives = (facts.questionnaire or {}).get("objectives")
    parts += [
        "",
        "### Le mot de la fin",
        "",
        (
            f"Tu nous as confié ton objectif : « {objectives} ». Ce plan est fait pour t'en rapprocher, "
            "pas à pas."
            if objectives
            else "Fixe-toi un objectif précis pour la fin du trimestre : ce plan est fait pour "
            "t'en rapprocher, pas à pas."
        ),
        "",
        "Ce travail, tu ne le feras pas sans aide : toute l'équipe Nexus Réussite est là pour "
        "t'accompagner. On compte sur toi, et on croit en tes progrès !",
    ]
    return "\n".join(parts)


def parents(facts: Facts) -> str:
    a = facts.analysis
    name = facts.first_name
    priorities, strengths, wins = a["priorities"], a["strengths"], a["quick_wins"]
    parts = [f"## Le bilan de {name}", ""]
    parts.append(
        f"Madame, Monsieur, {name} a passé le test de positionnement de Nexus Réussite "
        f"({facts.test_title}). Voici ce qu'il montre, en quelques mots, et ce que nous vous proposons."
    )
    parts += ["", "### Où en est votre enfant", ""]
    for s in a["subjects"]:
        words = LEVEL_WORDS.get(s.get("level") or "", "en cours d'évaluation")
        parts.append(f"- En {s['label']}, le niveau mesuré est **{words}**.")
    if strengths:
        parts += [
            "",
            _these(strengths, "Son point d'appui est ", "Ses points d'appui sont ")
            + _quoted(strengths)
            + _these(strengths, " : ce chapitre est bien compris.", " : ces chapitres sont bien compris."),
        ]
    parts += ["", "### Les priorités", ""]
    if priorities:
        parts.append(
            f"Les chapitres à reprendre en premier sont {_quoted(priorities)}. Ce sont eux qui "
            "comptent le plus pour la suite de l'année et pour le baccalauréat."
        )
    else:
        parts.append(
            "Aucun chapitre n'apparaît en difficulté : l'enjeu est maintenant la régularité et "
            "l'entraînement sur des sujets d'examen."
        )
    if wins:
        parts.append("")
        parts.append(f"Sur {_quoted(wins)}, quelques exercices ciblés suffiront à consolider les acquis.")
    parts += ["", "### Comment l'accompagner", ""]
    parts += [
        "- Encouragez un travail court mais quotidien plutôt que de longues séances espacées.",
        "- Proposez-lui de vous expliquer ce qui a été vu dans la semaine : expliquer, c'est retenir.",
        "- Valorisez les efforts et les progrès, même modestes, plus que les résultats d'un seul devoir.",
    ]
    offer = a.get("offer") or {}
    parts += ["", "### Notre proposition", ""]
    if offer:
        parts.append(
            f"Nous vous proposons la formule **{offer['name']}** "
            f"({fr.tnd(offer['price_millimes'])} par mois), "
            "avec un plan de travail sur quatre semaines, puis un nouveau test pour mesurer les progrès."
        )
        parts.append("")
    parts.append(
        "Notre équipe se tient à votre disposition pour en parler avec vous et répondre à vos questions."
    )
    return "\n".join(parts)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", ",")


def team(facts: Facts) -> str:
    a = facts.analysis
    q = facts.questionnaire or {}
    parts = [f"## Bilan équipe — {facts.first_name} ({facts.grade_label})", ""]
    parts.append(f"Test : {facts.test_title}" + (" (stage)" if facts.stage else "") + ".")
    parts += ["", "### Mesures", ""]
    for s in a["subjects"]:
        parts.append(
            f"- **{s['label']}** : SSN {_fmt(s['ssn'])} ({s.get('level_label') or '—'}), "
            f"θ {_fmt(s.get('theta'), 2)} ± {_fmt(s.get('standard_error'), 2)}, "
            f"questions tentées {fr.percent(s.get('confidence'), '—')}."
        )
    if a.get("uai") is not None:
        parts += ["", f"UAI (Maths 0,6 · NSI 0,4) : {_fmt(a['uai'])}."]
    parts += ["", "### Maîtrise par chapitre", ""]
    declared = q.get("confidence") or {}
    for d in a["domains"]:
        level = declared.get(f"{d['subject']}:{d['key']}")
        said = f", confiance déclarée « {CONFIDENCE[level]} »" if level in CONFIDENCE else ""
        parts.append(f"- {d['label']} : {fr.percent(d['mastery'], 'non vu')}{said}.")
    parts += ["", "### Priorités", ""]
    parts += [
        f"- **{p['label']}** : maîtrise {fr.percent(p['mastery'])}{_skills(p)}." for p in a["priorities"]
    ] or ["- Aucune priorité sous le seuil : travail d'approfondissement."]
    parts += ["", "### Gains rapides", ""]
    parts += [f"- {w['label']} : maîtrise {fr.percent(w['mastery'])}." for w in a["quick_wins"]] or [
        "- Aucun chapitre proche du seuil de solidité."
    ]
    parts += ["", "### Risques", ""]
    parts += [f"- {r}" for r in a["risks"]] or ["- Aucun risque particulier relevé."]
    context = []
    for key, label in (("school", "Établissement"), ("teacher", "Professeur")):
        if q.get(key):
            context.append(f"{label} : {q[key]}")
    for key, label in (
        ("maths_average", "Moyenne de maths"),
        ("speciality_average", "Moyenne de spécialité"),
        ("bac_blanc", "Bac blanc"),
    ):
        if q.get(key) is not None:
            context.append(f"{label} : {_fmt(q[key], 2)}/20")
    if q.get("class_rank"):
        context.append(f"Classement : {q['class_rank']}")
    if context:
        parts += ["", "### Contexte déclaré", ""] + [f"- {c}" for c in context]
    if q.get("objectives"):
        parts.append(f"- Objectifs : {q['objectives']}")
    parts += ["", "### Plan proposé (4 semaines)", ""] + [f"- {step}" for step in a["plan"]]
    offer = a.get("offer") or {}
    if offer:
        parts += [
            "",
            "### Offre",
            "",
            f"**{offer['name']}** ({fr.tnd(offer['price_millimes'])} par mois) — {offer['why']}.",
        ]
    return "\n".join(parts)


WRITERS = {Audience.STUDENT: student, Audience.PARENTS: parents, Audience.TEAM: team}


def template(audience: Audience, facts: Facts) -> str:
    return WRITERS[audience](facts)
