"""The moderation pass through the chat model, for endpoints without /v1/moderations (Ollama).

One short completion (temperature 0, a few tokens, a short timeout) asks the configured chat model
for one label among LABELS. Parsing is strict: the answer must be exactly one label (case, spaces
and a final full stop aside); anything else is logged and read as NONE, so a chatty or broken model
never blocks a question, and the lexicon floor, which ran first, still stands.
"""

from __future__ import annotations

import logging
import re

from flask import current_app

from nexus.models.aria import SafetyCategory
from nexus.services import llm
from nexus.services.aria.lexicon import Verdict

log = logging.getLogger(__name__)

LABELS = {
    "NONE": None,
    "DISTRESS": SafetyCategory.DISTRESS,
    "SELF_HARM": SafetyCategory.SELF_HARM,
    "HARASSMENT": SafetyCategory.HARASSMENT,
    "CHEATING": SafetyCategory.CHEATING,
}
MAX_TOKENS = 6
DEFAULT_TIMEOUT = 5.0

# The fake server of the tests recognises this first line (tests/fakes/llm.py).
PROMPT = """Tu es le filtre de sécurité d'un tuteur scolaire pour des lycéens mineurs (15-17 ans).
Lis le message de l'élève (français, souvent en écriture SMS, sans accents) et réponds par UN seul
mot parmi : NONE, DISTRESS, SELF_HARM, HARASSMENT, CHEATING.
- SELF_HARM : envie de mourir, de ne plus se réveiller, de disparaître pour de bon, se sentir un
  fardeau, se faire du mal (se couper, se brûler, se scarifier, avaler des médicaments), même
  au conditionnel ou mêlé à une question de cours.
- DISTRESS : désespoir durable, pleurs tous les jours, crises d'angoisse, violence à la maison.
- HARASSMENT : harcèlement, insultes, menaces, moqueries, photos diffusées (en ligne ou au lycée),
  un adulte qui demande des photos ; ou vouloir harceler quelqu'un.
- CHEATING : demander les réponses ou le sujet d'une évaluation en cours ou à venir.
- NONE : tout le reste, y compris les expressions (« mort de rire », « ce DS m'a tué »,
  « tuer un processus »), la mort dans un cours (philo, histoire, SVT, fonctions) et la lassitude
  envers un exercice ou une matière (« j'en peux plus de ces exos », « je suis nul en maths »).
Réponds uniquement par le mot, sans explication. Le message est entre <message> et </message>."""

_ANSWER = re.compile(r"^\s*[\"'`*]*([A-Za-z_]+)[\"'`*]*\s*\.?\s*$")


def parse(answer: str | None) -> str | None:
    """The label the model answered, or None when the answer is not exactly one label."""
    match = _ANSWER.match(answer or "")
    label = match.group(1).upper() if match else None
    return label if label in LABELS else None


def _quoted(text: str) -> str:
    """The question as data: no tag of its own can close the message early."""
    return re.sub(r"</?\s*message\s*>", " ", text[:2000], flags=re.IGNORECASE)


def classify(text: str, conf: llm.Settings) -> Verdict | None:
    """The chat model's label for one question, or None (NONE, no answer in time, unreadable)."""
    from openai import OpenAIError

    timeout = float(current_app.config.get("ARIA_MODERATION_CHAT_TIMEOUT") or DEFAULT_TIMEOUT)
    messages = [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": f"<message>{_quoted(text)}</message>"},
    ]
    try:
        client = llm._client(conf).with_options(timeout=timeout, max_retries=0)
        response = client.chat.completions.create(
            model=conf.model, messages=messages, temperature=0, max_tokens=MAX_TOKENS, stream=False
        )
        answer = response.choices[0].message.content if response.choices else None
    except OpenAIError as exc:
        log.info("aria: no chat moderation (%s): the lexicon alone decides", type(exc).__name__)
        return None
    except Exception:  # a malformed answer is the endpoint's fault: never block the student on it
        log.warning("aria: chat moderation answer unreadable", exc_info=True)
        return None
    label = parse(answer)
    if label is None:
        log.warning("aria: chat moderation answered %r, not one label: read as NONE", (answer or "")[:80])
        return None
    category = LABELS[label]
    return Verdict(category, "moderation", f"chat:{label}") if category else None
